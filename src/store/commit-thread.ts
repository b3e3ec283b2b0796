import { Worker } from 'node:worker_threads';
import { LeaseLostError, StoreUnavailableError, UniqueConflictError, type BatchCommit } from '../ports/store.js';
import { threadEntry } from '../thread-entry.js';

/** The store a commit thread opens for itself: the same database as the store that starts it. */
export type CommitTarget = { readonly kind: 'sqlite'; readonly file: string } | { readonly kind: 'postgres'; readonly url: string };

/**
 * `reserveIds`: a SQLite job thread's next block of record ids, reserved in the batch's own
 * transaction (SqliteStore.commitBatch says why); the reply's `reserved` is one past its last.
 */
/** `lent`: the buffer under the batch's `inserts.lines.bytes` was moved here, and goes back with the reply. */
export type CommitRequest = { id: number; batch: BatchCommit; reserveIds?: number; lent?: true } | { id: number; close: true };
/** How a commit failed: the port's errors a job acts on are rebuilt on the other side. */
export type CommitFailure = 'leaseLost' | 'uniqueConflict' | 'unavailable' | 'other';
/** What a new thread says once its store is open (or failed to open: each request then answers with the failure). */
export type CommitThreadReady = { ready: true };
/** `returned`: a lent buffer (CommitRequest), moved back. */
export type CommitReply = ({ id: number; ok: true; reserved?: number } | { id: number; ok: false; failure: CommitFailure; message: string }) & { returned?: ArrayBuffer };

/**
 * Commits record batches on a thread of its own, with its own connection to the same database, in
 * the order they are sent. The job thread validates the next batch meanwhile, so both cores work.
 * On SQLite the writing itself moves off the job thread (SQLite has one writer at a time anyway).
 * On PostgreSQL the COPY text is built there, and a commit's round trips no longer wait for the job
 * thread to finish validating a batch before each of them is answered (measured in bench/: the job
 * thread sat idle a third of a job, waiting for commits that waited for it).
 */
export class CommitThread {
  /** null once the thread has died: the next request starts another. */
  private thread: Worker | null;
  private closed = false;
  private readonly waiting = new Map<number, { resolve: (reserved: number | null) => void; reject: (e: Error) => void; giveBack?: (buffer: ArrayBuffer) => void }>();
  private nextId = 0;
  /**
   * Settles once the first thread has opened its store, or has died: a process that waits for it
   * before it says it is up does not boot the thread (~0.15 s of CPU: Node, the driver, the
   * connection) while it answers its first requests (measured: the first upload of a fresh server).
   */
  readonly ready: Promise<void>;
  private settleReady: () => void = () => undefined;

  constructor(private readonly target: CommitTarget) {
    this.ready = new Promise((resolve) => {
      this.settleReady = resolve;
    });
    this.thread = this.start();
  }

  private start(): Worker {
    // On PostgreSQL the thread builds each batch's COPY text, and with 8 MB of young generation
    // the batches outlived their scavenges: promoted, then collected by the old generation's GC
    // (measured: 24 MB is 3–7% faster, at the same peak memory). The SQLite writer binds a batch
    // and drops it: 8 MB.
    const youngMb = this.target.kind === 'postgres' ? 24 : 8;
    const thread = new Worker(threadEntry(import.meta.url, 'commit-thread-entry.js'), { workerData: this.target, resourceLimits: { maxYoungGenerationSizeMb: youngMb } });
    thread.on('message', (m: CommitReply | CommitThreadReady) => {
      if ('ready' in m) {
        // An idle commit thread must not keep the process alive; until it is up, it must, or a
        // process waiting for `ready` alone (a job thread at its start) would just exit.
        thread.unref();
        this.settleReady();
        return;
      }
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (m.returned) w.giveBack?.(m.returned);
      if (m.ok) w.resolve(m.reserved ?? null);
      else w.reject(rebuilt(m));
    });
    // A thread that dies (an uncaught error, out of memory) fails the commits it had: their jobs
    // run again from their checkpoints, and the next commit starts a new thread. Requests posted
    // to a dead thread would never be answered.
    const died = (why: string): void => {
      this.settleReady();
      if (this.thread !== thread) return;
      this.thread = null;
      const e = new StoreUnavailableError(`the commit thread stopped: ${why}`);
      for (const w of this.waiting.values()) w.reject(e);
      this.waiting.clear();
    };
    thread.on('error', (e) => died(e.message));
    thread.on('exit', (code) => died(`exit code ${code}`));
    return thread;
  }

  /** Resolves with the end of the ids reserved, when `reserveIds` asked for some (SQLite only), else null. */
  commit(batch: BatchCommit, reserveIds = 0): Promise<number | null> {
    // A batch's record lines (~290 KB, in a 512 KB buffer that the structured clone would copy
    // whole, then again on arrival) are moved to the thread and back instead, when their reader
    // takes the buffer back (RecordLines.giveBack): measured alone, the clone of 500 such batches
    // took ~350 ms of CPU, the move ~165 ms.
    const lines = batch.inserts.lines;
    const buffer = lines?.bytes.buffer;
    if (!lines?.giveBack || !(buffer instanceof ArrayBuffer)) return this.request((id) => (reserveIds > 0 ? { id, batch, reserveIds } : { id, batch }));
    const { giveBack: _giveBack, ...plain } = lines;
    const moved: BatchCommit = { ...batch, inserts: { ...batch.inserts, lines: plain } };
    return this.request((id) => ({ id, batch: moved, lent: true, ...(reserveIds > 0 ? { reserveIds } : {}) }), [buffer], lines.giveBack);
  }

  async close(): Promise<void> {
    const thread = this.thread;
    this.closed = true;
    if (!thread) return;
    try {
      await this.request((id) => ({ id, close: true }));
    } finally {
      this.thread = null;
      await thread.terminate();
    }
  }

  private request(make: (id: number) => CommitRequest, transfer: ArrayBuffer[] = [], giveBack?: (buffer: ArrayBuffer) => void): Promise<number | null> {
    if (this.closed && this.thread === null) return Promise.reject(new Error('the commit thread is closed'));
    const to = this.thread ?? (this.thread = this.start());
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, giveBack });
      to.postMessage(make(id), transfer);
    });
  }
}

/** A failed commit's error as the job thread acts on it. */
function rebuilt(m: Extract<CommitReply, { ok: false }>): Error {
  switch (m.failure) {
    case 'leaseLost':
      return new LeaseLostError(m.message);
    case 'uniqueConflict':
      return new UniqueConflictError(m.message);
    case 'unavailable':
      return new StoreUnavailableError(m.message);
    default:
      return new Error(m.message);
  }
}
