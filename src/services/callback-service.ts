import http from 'node:http';
import https from 'node:https';
import type { CallbackDelivery, Store } from '../ports/store.js';

export interface CallbackOptions {
  readonly attempts: number;
  /** Delay before retry n (1-based), in ms. */
  readonly backoffMs: (attempt: number) => number;
  readonly timeoutMs: number;
  /** How often to look for deliveries that are due (retries, and those a stopped or dead process left). */
  readonly pollMs: number;
  /** This process's lease owner id: it holds a delivery while making an attempt. */
  readonly owner: string;
  readonly log: (level: 'info' | 'warn' | 'error', msg: string) => void;
}

/** Beyond the request timeout, how long a claim on an attempt lasts before another process may retry it. */
const CLAIM_MARGIN_MS = 30_000;
/** At most this many deliveries are attempted at once by one process. */
const CLAIM_LIMIT = 10;
/** At shutdown, how long an attempt under way may still take before it is cut off and handed back. */
const STOP_GRACE_MS = 2_000;

/**
 * POSTs the final job-details object to the job's callback URL (reference §8). Deliveries are
 * rows in the store, written with the job's end (Store.finishResource) and claimed one attempt at
 * a time: of many processes exactly one makes each attempt, a retry waits in the store until it is
 * due, and a delivery left by a process that stopped or died is picked up by the next poll of any
 * process. A failing endpoint never fails a job.
 */
export class CallbackService {
  private readonly inFlight = new Set<Promise<void>>();
  private readonly cutOff = new AbortController();
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private stopped = true;

  constructor(
    private readonly store: Store,
    private readonly options: CallbackOptions,
  ) {}

  /** Starts polling for due deliveries, those a previous process left pending first. */
  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** A delivery was just recorded (with its job's end): look for due ones now rather than at the next poll. */
  wake(): void {
    if (!this.stopped) void this.poll();
  }

  /** Stops polling; an attempt under way gets a short grace, then is cut off and handed back untried. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.polling;
    const grace = setTimeout(() => this.cutOff.abort(), STOP_GRACE_MS);
    await Promise.allSettled([...this.inFlight]);
    clearTimeout(grace);
  }

  /** Waits until no delivery is pending: each delivered or given up (tests). */
  async drain(): Promise<void> {
    while (!this.stopped) {
      await Promise.allSettled([...this.inFlight]);
      if ((await this.store.countPendingCallbacks()) === 0) return;
      await this.poll();
      await sleep(Math.min(this.options.pollMs, 50));
    }
  }

  private claim(): { owner: string; until: Date } {
    return { owner: this.options.owner, until: new Date(Date.now() + this.options.timeoutMs + CLAIM_MARGIN_MS) };
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => {
      void this.poll().finally(() => {
        if (!this.stopped) this.schedule(this.options.pollMs);
      });
    }, ms);
  }

  private poll(): Promise<void> {
    this.polling ??= (async () => {
      try {
        if (this.stopped || this.inFlight.size >= CLAIM_LIMIT) return;
        const due = await this.store.claimCallbacks(this.claim(), new Date(), CLAIM_LIMIT - this.inFlight.size);
        for (const d of due) this.track(this.attempt(d));
      } catch (e) {
        this.options.log('error', `looking for due callbacks failed: ${e instanceof Error ? e.message : String(e)}`);
      } finally {
        this.polling = null;
      }
    })();
    return this.polling;
  }

  private track(p: Promise<void>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  /** One attempt; a failed one is due again after its backoff, for whichever process polls first. */
  private async attempt(d: CallbackDelivery): Promise<void> {
    const attempt = d.attempts + 1;
    let error: string | null = null;
    const signal = AbortSignal.any([AbortSignal.timeout(this.options.timeoutMs), this.cutOff.signal]);
    try {
      const status = await postJson(d.url, d.body, signal);
      if (status < 200 || status >= 300) error = `HTTP ${status}`;
    } catch (e) {
      const reason: unknown = signal.aborted ? signal.reason : e;
      error = reason instanceof Error ? reason.message : String(reason);
    }
    try {
      if (this.cutOff.signal.aborted) {
        await this.store.releaseCallback(d.id, this.options.owner);
        return;
      }
      const at = new Date();
      const failedForGood = error !== null && attempt >= this.options.attempts;
      const retryAt = error !== null && !failedForGood ? new Date(at.getTime() + this.options.backoffMs(attempt)) : null;
      await this.store.recordCallbackAttempt(d.id, this.options.owner, { delivered: error === null, failedForGood, error, at, retryAt });
      if (error !== null) {
        this.options.log(failedForGood ? 'error' : 'warn', `callback for job ${d.jobId} to ${d.url} failed (attempt ${attempt}): ${error}`);
      }
    } catch (e) {
      this.options.log('error', `recording the callback attempt for job ${d.jobId} failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

/**
 * POSTs a JSON body and resolves with the response's status once its body is read or cut off (the
 * status decides, as it did through fetch). A redirect is an answer like any other, not followed
 * (a followed 302 would have re-sent the callback as a GET without its body). node:http rather
 * than fetch: the first fetch of a process loads and compiles undici, +15 MB of memory for good and
 * +40 MB at its peak (the peak of a 1M-row insert with a callback: 234–265 MB through fetch,
 * 218–226 MB through node:http).
 */
function postJson(url: string, body: string, signal: AbortSignal): Promise<number> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const client = target.protocol === 'https:' ? https : target.protocol === 'http:' ? http : null;
    if (client === null) {
      reject(new Error(`cannot post to a ${target.protocol} URL`));
      return;
    }
    const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    let answered = false;
    const req = client.request(target, { method: 'POST', headers, signal }, (res) => {
      answered = true;
      // A body cut off after the status (an error, then 'close') changes nothing.
      res.on('error', () => undefined);
      res.on('close', () => resolve(res.statusCode ?? 0));
      res.resume();
    });
    req.on('error', (e) => {
      if (!answered) reject(e);
    });
    req.end(body);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
