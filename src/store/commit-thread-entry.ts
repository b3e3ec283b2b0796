import { parentPort, workerData } from 'node:worker_threads';
import { LeaseLostError, UniqueConflictError, type BatchCommit } from '../ports/store.js';
import type { CommitReply, CommitRequest, CommitTarget } from './commit-thread.js';

/** Entry of a commit thread: applies batch commits one after another, in the order they came. */
const port = parentPort;
if (!port) throw new Error('commit-thread-entry.js runs as a worker thread');

interface Committer {
  commitBatch(b: BatchCommit): Promise<void>;
  close(): Promise<void>;
  /** SQLite: the WAL checkpoint that commits leave for an idle moment. */
  checkpointIdle?(): void;
}

/**
 * How long the thread waits without a request before it checkpoints SQLite's WAL: longer than the
 * gap between a running job's batches (~10 ms), so that checkpoints fall between jobs, or after
 * one's last batch, not in its middle.
 */
const IDLE_CHECKPOINT_MS = 250;
let idleTimer: NodeJS.Timeout | null = null;

/** Only the chosen backend's driver is loaded: each is a few MB of this thread's memory. */
async function open(target: CommitTarget): Promise<Committer> {
  if (target.kind === 'sqlite') {
    const { SqliteStore } = await import('./sqlite/sqlite-store.js');
    return new SqliteStore(target.file, { cacheMb: 16 });
  }
  const { createPool } = await import('./postgres/pg-pool.js');
  const { PostgresStore } = await import('./postgres/postgres-store.js');
  return PostgresStore.openMigrated(createPool(target.url));
}

const committer = open(workerData as CommitTarget);
// Awaited by each request, which answers with the failure; a thread with no request must not die of it.
committer.catch(() => undefined);
let last: Promise<void> = Promise.resolve();

port.on('message', (m: CommitRequest) => {
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = null;
  last = last.then(() => handle(m)).then(() => {
    if ('close' in m) return;
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = setTimeout(checkpointIfIdle, IDLE_CHECKPOINT_MS);
    idleTimer.unref();
  });
});

async function checkpointIfIdle(): Promise<void> {
  idleTimer = null;
  try {
    (await committer).checkpointIdle?.();
  } catch {
    // Left to the next idle moment, or to the WAL's size mark: nothing waits on this one.
  }
}

/** Never throws: every request gets an answer, or its sender would wait forever. */
async function handle(m: CommitRequest): Promise<void> {
  let reply: CommitReply;
  try {
    const store = await committer;
    if ('close' in m) await store.close();
    else await store.commitBatch(m.batch);
    reply = { id: m.id, ok: true };
  } catch (e) {
    // The job id travels as the message: LeaseLostError is rebuilt with it on the other side.
    if (e instanceof LeaseLostError && 'batch' in m) reply = { id: m.id, ok: false, failure: 'leaseLost', message: m.batch.jobId };
    else if (e instanceof UniqueConflictError) reply = { id: m.id, ok: false, failure: 'uniqueConflict', message: e.detail };
    else reply = { id: m.id, ok: false, failure: 'other', message: String(e) };
  }
  port?.postMessage(reply);
}
