import { Worker } from 'node:worker_threads';
import { LeaseLostError, UniqueConflictError, type BatchCommit } from '../../ports/store.js';
import { threadEntry } from '../../thread-entry.js';

export type WriterRequest = { id: number; batch: BatchCommit } | { id: number; close: true };
/** How a commit failed: the port's errors a job acts on are rebuilt on the other side. */
export type WriterFailure = 'leaseLost' | 'uniqueConflict' | 'other';
export type WriterReply = { id: number; ok: true } | { id: number; ok: false; failure: WriterFailure; message: string };

/**
 * Commits record batches on a thread with its own connection to the same database file. SQLite
 * has one writer at a time anyway; this moves the writing off the thread that validates rows.
 */
export class SqliteWriter {
  private readonly thread: Worker;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private nextId = 0;

  constructor(file: string) {
    this.thread = new Worker(threadEntry(import.meta.url, 'sqlite-writer-thread.js'), { workerData: { file }, resourceLimits: { maxYoungGenerationSizeMb: 8 } });
    this.thread.on('message', (m: WriterReply) => {
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (m.ok) w.resolve();
      else w.reject(m.failure === 'leaseLost' ? new LeaseLostError(m.message) : m.failure === 'uniqueConflict' ? new UniqueConflictError(m.message) : new Error(m.message));
    });
    this.thread.on('error', (e) => {
      for (const w of this.waiting.values()) w.reject(e);
      this.waiting.clear();
    });
    // An idle writer must not keep the process alive.
    this.thread.unref();
  }

  commit(batch: BatchCommit): Promise<void> {
    return this.request((id) => ({ id, batch }));
  }

  async close(): Promise<void> {
    await this.request((id) => ({ id, close: true }));
    await this.thread.terminate();
  }

  private request(make: (id: number) => WriterRequest): Promise<void> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.thread.postMessage(make(id));
    });
  }
}
