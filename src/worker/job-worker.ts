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
  /** First wait before a job that failed unexpectedly is run again; it doubles per failure in a row, up to leaseMs. */
  readonly retryBaseMs?: number;
  /** Runs in a row a job may have interrupted (ClaimedJob.interruptedRuns) before it ends FAILED instead of running again. */
  readonly maxInterruptedRuns?: number;
  readonly log: (level: 'info' | 'warn' | 'error', msg: string) => void;
}

/**
 * Interrupted runs in a row after which a job ends FAILED: a job that brings its process down
 * every time (a row that exhausts memory, a crash in native code) would otherwise be taken up
 * again forever, by every worker in turn. A crash interrupts one run, and the run after it
 * commits a batch, which starts the count again. Errors a run meets (a store in trouble) are not
 * counted: the worker releases the job for a wait and retries it (JobWorker.execute). Once
 * interrupted, a job runs alone in its worker (JobWorker.alone), so that with --concurrency above
 * 1 only the first crash can be another job's: the jobs that ran beside a poisonous one go on.
 */
export const MAX_INTERRUPTED_RUNS = 5;

/** Claims runnable jobs under a lease and runs them; the jobs table is the queue (DESIGN.md). */
export class JobWorker {
  private running = 0;
  /**
   * A job running alone: one a crash may have interrupted (ClaimedJob.interruptedRuns > 0). With
   * other jobs beside it, a crash could not be told apart from theirs, and each would count it:
   * one job that kills its process every time would end every job that ran with it.
   */
  private alone: string | null = null;
  private stopped = true;
  private timer: NodeJS.Timeout | null = null;
  private readonly active = new Set<Promise<void>>();
  private filling: Promise<void> | null = null;
  private readonly stopping = new AbortController();
  /**
   * Unexpected failures in a row, per job run by this worker: how long the next retry waits. Kept
   * here, not in the store: they are a store's or a server's troubles, which another process or a
   * restart may not have, and a job is never failed for them.
   */
  private readonly failures = new Map<string, number>();
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
      while (!this.stopped && this.running < this.o.concurrency && this.alone === null) {
        const sharing = this.running > 0;
        const job = await this.o.store.claimJob(this.id, this.o.leaseMs, new Date(), { ownerGone: this.ownerGone, sharing });
        if (!job) break;
        if (this.stopped) {
          await this.o.store.releaseLease(job.id, this.id);
          break;
        }
        const interrupted = job.interruptedRuns > 0;
        if (interrupted) this.alone = job.id;
        this.o.log('info', `job ${job.id} claimed by ${this.id} at row ${rowsDoneOf(job)}${interrupted ? ` (run alone: ${job.interruptedRuns} interrupted run${job.interruptedRuns > 1 ? 's' : ''})` : ''}`);
        this.running++;
        const p = this.execute(job).finally(() => {
          this.running--;
          if (this.alone === job.id) this.alone = null;
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
      const reason = `its last ${job.interruptedRuns} runs ended before committing a batch past row ${rowsDoneOf(job)}: their process went down or stalled each time`;
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
      this.failures.delete(job.id);
      this.o.log('info', `job ${job.id} ${finished.status.toLowerCase()} by ${this.id}`);
      // The job's end recorded its callback, due at once: attempt it now rather than at the next poll.
      if (finished.callback) this.o.callbacks.wake();
    } catch (e) {
      const failures = (this.failures.get(job.id) ?? 0) + 1;
      this.failures.set(job.id, failures);
      const waitMs = Math.min(this.o.leaseMs, (this.o.retryBaseMs ?? 1000) * 2 ** (failures - 1));
      this.o.log('error', `job ${job.id} stopped (failure ${failures}; retried in ${waitMs} ms): ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
      // Released with a wait: claimed again at once, a job that fails each time (a store that
      // keeps failing) would spin; left to expire, its next claim would count an interrupted run.
      // If the store cannot take even this, the lease expires, and that claim counts one.
      await this.o.store.releaseLease(job.id, this.id, new Date(Date.now() + waitMs)).catch(() => undefined);
    }
  }
}

/** The rows a job's checkpoints count, over its resources. */
function rowsDoneOf(job: ClaimedJob): number {
  return job.resources.reduce((n, r) => n + r.progress.rowsDone, 0);
}
