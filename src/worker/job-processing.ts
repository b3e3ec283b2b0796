import type { Config } from '../config.js';
import type { Job } from '../domain/job.js';
import { JobRunner } from '../ingest/job-runner.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { Store } from '../ports/store.js';
import { CallbackService } from '../services/callback-service.js';
import { JobWorker } from './job-worker.js';
import { newLeaseOwnerId } from './lease-owner.js';

export type LogFn = (level: 'info' | 'warn' | 'error', msg: string) => void;

/** Running jobs and delivering their callbacks, wherever that happens (this thread or another). */
export interface JobProcessing {
  /** Settles once jobs are being claimed (the job thread has opened its stores); rejects if that failed. */
  readonly started: Promise<void>;
  /** A job was created: look for work now. */
  wake(): void;
  /** Waits until no callback delivery is pending in the store: each delivered or given up (tests). */
  drainCallbacks(): Promise<void>;
  /**
   * Stops claiming, lets the batch in flight commit, releases the leases it holds (jobs stay
   * INPROGRESS at their checkpoint for the next claimant) and hands back callbacks not yet attempted.
   */
  stop(): Promise<void>;
}

export function downloadUrlFor(baseUrl: string): (job: Pick<Job, 'id' | 'orgId'>) => string {
  return (job) => `${baseUrl}/v2/crm/${job.orgId}/bulk-write/${job.id}/${job.id}.zip`;
}

/** Job processing on the stores it is given, in the calling thread. */
export function startJobProcessing(config: Config, stores: { store: Store; blobs: BlobStore }, baseUrl: string, log: LogFn): JobProcessing {
  const { store, blobs } = stores;
  const owner = newLeaseOwnerId();
  const callbacks = new CallbackService(store, {
    attempts: config.callbacks.attempts,
    backoffMs: (n) => config.callbacks.backoffBaseMs * 2 ** (n - 1),
    timeoutMs: config.callbacks.timeoutMs,
    pollMs: config.worker.pollMs,
    owner,
    log,
  });
  const runner = new JobRunner({
    store, blobs, limits: config.limits, batchSize: config.worker.batchSize, leaseMs: config.worker.leaseMs, downloadUrl: downloadUrlFor(baseUrl), log,
  });
  const worker = new JobWorker({
    id: owner, store, runner, callbacks, concurrency: config.worker.concurrency, leaseMs: config.worker.leaseMs, pollMs: config.worker.pollMs, log,
  });
  worker.start();
  callbacks.start();
  return {
    started: Promise.resolve(),
    wake: () => worker.wake(),
    drainCallbacks: () => callbacks.drain(),
    async stop() {
      await worker.stop();
      await callbacks.stop();
    },
  };
}
