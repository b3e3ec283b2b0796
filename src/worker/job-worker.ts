import type { JobRunner } from '../ingest/job-runner.js';
import type { ClaimedJob, Store } from '../ports/store.js';
import type { CallbackService } from '../services/callback-service.js';
import { leaseOwnerDiedHere } from './lease-owner.js';

export interface JobWorkerOptions {
  /** The lease owner id (lease-owner.ts): `worker-<pid>-<random>`. */
  readonly id: string;
  readonly store: Store;
  readonly runner: JobRunner;
  readonly callbacks: CallbackService;
  readonly concurrency: number;
  readonly leaseMs: number;
  readonly pollMs: number;
  /** First wait before a job that failed unexpectedly is run again; it doubles per failure, up to leaseMs. */
  readonly retryBaseMs?: number;
  /** Runs in a row a job may have interrupted (ClaimedJob.interruptedRuns) before it ends FAILED instead of running again. */
  readonly maxInterruptedRuns?: number;
  readonly log: (level: 'info' | 'warn' | 'error', msg: string) => void;
}

/**
 * Interrupted runs in a row after which a job ends FAILED: a job that stops its worker every time
 * (a row that crashes the process, an error each run meets) would otherwise be retried forever.
 * A crash interrupts one run; the run after it commits a batch and starts the count again.
 */
export const MAX_INTERRUPTED_RUNS = 5;

/** Claims runnable jobs under a lease and runs them; the jobs table is the queue (DESIGN.md). */
export class JobWorker {
  private running = 0;
  private stopped = true;
  private timer: NodeJS.Timeout | null = null;
  private readonly active = new Set<Promise<void>>();
  private filling: Promise<void> | null = null;
  private readonly stopping = new AbortController();
  /**
   * On a store shared only by processes of this machine, a job whose holder died is taken at once
   * rather than when its lease expires (a restart resumes without waiting out the lease).
   */
  private readonly ownerGone: ((owner: string) => boolean) | undefined;

  constructor(private readonly o: JobWorkerOptions) {
    this.ownerGone = o.store.singleHost ? leaseOwnerDiedHere : undefined;
  }

  get id(): string {
    return this.o.id;
  }

  start(): void {
    this.stopped = false;
    this.o.log('info', `worker ${this.id} started`);
    this.schedule(0);
  }

  /**
   * Stops claiming; each job under way stops once its batch in flight has committed and its lease
   * is released, so that another worker can resume it from that checkpoint at once.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    if (this.timer) clearTimeout(this.timer);
    await this.filling;
    await Promise.allSettled([...this.active]);
  }

  /** A job was just created: look now rather than at the next poll. */
  wake(): void {
    if (!this.stopped) this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.filling ??= this.fill().finally(() => {
        this.filling = null;
        if (!this.stopped) this.schedule(this.o.pollMs);
      });
    }, ms);
  }

  private async fill(): Promise<void> {
    try {
      while (!this.stopped && this.running < this.o.concurrency) {
        const job = await this.o.store.claimJob(this.id, this.o.leaseMs, new Date(), this.ownerGone);
        if (!job) break;
        if (this.stopped) {
          await this.o.store.releaseLease(job.id, this.id);
          break;
        }
        const rowsDone = job.resources.reduce((n, r) => n + r.progress.rowsDone, 0);
        this.o.log('info', `job ${job.id} claimed by ${this.id} at row ${rowsDone}`);
        this.running++;
        const p = this.execute(job).finally(() => {
          this.running--;
          this.active.delete(p);
          this.wake();
        });
        this.active.add(p);
      }
    } catch (e) {
      this.o.log('error', `claiming a job failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private async execute(job: ClaimedJob): Promise<void> {
    const limit = this.o.maxInterruptedRuns ?? MAX_INTERRUPTED_RUNS;
    if (job.interruptedRuns >= limit) {
      const rowsDone = job.resources.reduce((n, r) => n + r.progress.rowsDone, 0);
      const reason = `its last ${job.interruptedRuns} runs stopped at row ${rowsDone} without committing a batch (the workers' logs say why)`;
      try {
        const ended = await this.o.runner.abandon(job, this.id, reason);
        if (ended.callback) this.o.callbacks.wake();
      } catch (e) {
        // Left leased: the lease runs out and another claim tries again.
        this.o.log('error', `job ${job.id} could not be ended: ${e instanceof Error ? e.message : String(e)}`);
      }
      return;
    }
    try {
      const finished = await this.o.runner.run(job, this.id, this.stopping.signal);
      if (!finished) {
        // Stopped between batches (or the lease was already lost, when this changes nothing).
        await this.o.store.releaseLease(job.id, this.id);
        return;
      }
      this.o.log('info', `job ${job.id} ${finished.status.toLowerCase()} by ${this.id}`);
      // The job's end recorded its callback, due at once: attempt it now rather than at the next poll.
      if (finished.callback) this.o.callbacks.wake();
    } catch (e) {
      // This run is the next interrupted one: its claimant counts it, whichever process that is.
      const failures = job.interruptedRuns + 1;
      const waitMs = Math.min(this.o.leaseMs, (this.o.retryBaseMs ?? 1000) * 2 ** (failures - 1));
      this.o.log('error', `job ${job.id} stopped (failure ${failures}; retried in ${waitMs} ms): ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
      // The lease is kept for the wait rather than released: released, the job would be claimed
      // again at once, and not counted as interrupted (a graceful stop releases it).
      await this.o.store.renewLease(job.id, this.id, waitMs, new Date()).catch(() => undefined);
    }
  }
}
