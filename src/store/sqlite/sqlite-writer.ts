import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { LeaseLostError, type BatchCommit } from '../../ports/store.js';

export type WriterRequest = { id: number; batch: BatchCommit } | { id: number; close: true };
export type WriterReply = { id: number; ok: true } | { id: number; ok: false; leaseLost: boolean; message: string };

/** The thread's entry, compiled. Under the test runner this module is TypeScript; the thread runs dist/. */
function entryUrl(): URL {
  const sibling = new URL('./sqlite-writer-thread.js', import.meta.url);
  if (existsSync(fileURLToPath(sibling))) return sibling;
  const built = new URL('../../../dist/store/sqlite/sqlite-writer-thread.js', import.meta.url);
  if (existsSync(fileURLToPath(built))) return built;
  throw new Error('the SQLite writer thread needs a build: run npm run build');
}

/**
 * Commits record batches on a thread with its own connection to the same database file. SQLite
 * has one writer at a time anyway; this moves the writing off the thread that validates rows.
 */
export class SqliteWriter {
  private readonly thread: Worker;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private nextId = 0;

  constructor(file: string) {
    this.thread = new Worker(entryUrl(), { workerData: { file } });
    this.thread.on('message', (m: WriterReply) => {
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (m.ok) w.resolve();
      else w.reject(m.leaseLost ? new LeaseLostError(m.message) : new Error(m.message));
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
