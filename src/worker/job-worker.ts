import { randomUUID } from 'node:crypto';
import type { JobRunner } from '../ingest/job-runner.js';
import type { Store } from '../ports/store.js';
import type { CallbackService } from '../services/callback-service.js';

export interface JobWorkerOptions {
  readonly store: Store;
  readonly runner: JobRunner;
  readonly callbacks: CallbackService;
  readonly concurrency: number;
  readonly leaseMs: number;
  readonly pollMs: number;
  readonly log: (level: 'info' | 'warn' | 'error', msg: string) => void;
}

/** Claims runnable jobs under a lease and runs them; the jobs table is the queue (DESIGN.md). */
export class JobWorker {
  readonly id = `worker-${process.pid}-${randomUUID().slice(0, 8)}`;
  private running = 0;
  private stopped = true;
  private timer: NodeJS.Timeout | null = null;
  private readonly active = new Set<Promise<void>>();
  private claiming = false;

  constructor(private readonly o: JobWorkerOptions) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops claiming and waits for the jobs under way to reach their end. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.allSettled([...this.active]);
  }

  /** A job was just created: look now rather than at the next poll. */
  wake(): void {
    if (!this.stopped) this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.fill(), ms);
  }

  private async fill(): Promise<void> {
    if (this.claiming) return;
    this.claiming = true;
    try {
      while (!this.stopped && this.running < this.o.concurrency) {
        const job = await this.o.store.claimJob(this.id, this.o.leaseMs, new Date());
        if (!job) break;
        this.running++;
        const p = this.execute(job.id, job.orgId, job).finally(() => {
          this.running--;
          this.active.delete(p);
          this.wake();
        });
        this.active.add(p);
      }
    } catch (e) {
      this.o.log('error', `claiming a job failed: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      this.claiming = false;
      if (!this.stopped) this.schedule(this.o.pollMs);
    }
  }

  private async execute(jobId: string, orgId: string, job: Parameters<JobRunner['run']>[0]): Promise<void> {
    try {
      const finished = await this.o.runner.run(job, this.id);
      if (!finished || !finished.callback) return;
      const org = await this.o.store.getOrg(orgId);
      const [deliveryId] = (await this.o.store.allocateIds(1)) as [string];
      await this.o.callbacks.enqueue({
        id: deliveryId,
        jobId,
        url: finished.callback.url,
        body: this.o.runner.renderFinal(finished, org?.timeZone ?? 'UTC'),
        attempts: 0,
      });
    } catch (e) {
      this.o.log('error', `job ${jobId} stopped: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
      await this.o.store.releaseLease(jobId, this.id).catch(() => undefined);
    }
  }
}
