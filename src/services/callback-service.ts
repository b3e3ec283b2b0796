import type { CallbackDelivery, Store } from '../ports/store.js';

export interface CallbackOptions {
  readonly attempts: number;
  /** Delay before retry n (1-based), in ms. */
  readonly backoffMs: (attempt: number) => number;
  readonly timeoutMs: number;
  readonly log: (level: 'info' | 'warn' | 'error', msg: string) => void;
}

/**
 * POSTs the final job-details object to the job's callback URL (reference §8). Deliveries are
 * recorded in the store, so a restart resumes the pending ones; a failing endpoint never fails a job.
 */
export class CallbackService {
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly options: CallbackOptions,
  ) {}

  async enqueue(delivery: CallbackDelivery): Promise<void> {
    await this.store.enqueueCallback(delivery);
    this.track(this.deliver(delivery));
  }

  /** Picks up deliveries a previous process left pending. */
  async resumePending(): Promise<void> {
    for (const d of await this.store.pendingCallbacks()) this.track(this.deliver(d));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled([...this.inFlight]);
  }

  /** Waits for deliveries under way (tests and graceful shutdown). */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private track(p: Promise<void>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private async deliver(d: CallbackDelivery): Promise<void> {
    for (let attempt = d.attempts + 1; attempt <= this.options.attempts && !this.stopped; attempt++) {
      if (attempt > 1) await sleep(this.options.backoffMs(attempt - 1));
      let error: string | null = null;
      try {
        const res = await fetch(d.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: d.body,
          signal: AbortSignal.timeout(this.options.timeoutMs),
        });
        await res.arrayBuffer().catch(() => undefined);
        if (res.status < 200 || res.status >= 300) error = `HTTP ${res.status}`;
      } catch (e) {
        error = e instanceof Error ? e.message : String(e);
      }
      const failedForGood = error !== null && attempt >= this.options.attempts;
      await this.store.recordCallbackAttempt(d.id, { delivered: error === null, failedForGood, error, at: new Date() });
      if (error === null) return;
      this.options.log(failedForGood ? 'error' : 'warn', `callback for job ${d.jobId} to ${d.url} failed (attempt ${attempt}): ${error}`);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
