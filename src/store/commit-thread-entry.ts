import { parentPort, workerData } from 'node:worker_threads';
import { LeaseLostError, UniqueConflictError, type BatchCommit } from '../ports/store.js';
import type { CommitReply, CommitRequest, CommitTarget } from './commit-thread.js';
import { IdleCheckpoint } from './idle-checkpoint.js';
import { isPgUnavailable } from './postgres/pg-errors.js';
import { isSqliteUnavailable } from './sqlite/sqlite-errors.js';

/** Entry of a commit thread: applies batch commits one after another, in the order they came. */
const port = parentPort;
if (!port) throw new Error('commit-thread-entry.js runs as a worker thread');

interface Committer {
  commitBatch(b: BatchCommit): Promise<void>;
  /** SQLite: commits the batch and reserves `count` record ids in its transaction; returns one past the last. */
  commitBatchReserving?(b: BatchCommit, count: number): number;
  /** PostgreSQL: builds a batch's commit at once, and returns what sends it (run in order). */
  prepareCommit?(b: BatchCommit): Promise<() => Promise<void>>;
  close(): Promise<void>;
  /** SQLite: the WAL checkpoint that commits leave for an idle moment; true once it is complete. */
  checkpointIdle?(): boolean;
}

/**
 * How long the thread waits without a request before it checkpoints SQLite's WAL: longer than the
 * gap between a running job's batches (~10 ms), so that checkpoints fall between jobs, or after
 * one's last batch, not in its middle.
 */
const IDLE_CHECKPOINT_MS = 250;

/** Only the chosen backend's driver is loaded: each is a few MB of this thread's memory. */
async function open(target: CommitTarget): Promise<Committer> {
  if (target.kind === 'sqlite') {
    const { SqliteStore } = await import('./sqlite/sqlite-store.js');
    // 8 MB, as the other connections: since the commit thread is the only writer during a job (its
    // batches reserve the job thread's ids), its cache is no longer emptied by another connection's
    // commit every few batches, and 16 MB stayed full: +10–13 MB of the process's peak (smaps).
    return new SqliteStore(target.file, { cacheMb: 8 });
  }
  const { createPool } = await import('./postgres/pg-pool.js');
  const { PostgresStore } = await import('./postgres/postgres-store.js');
  return PostgresStore.openMigrated(createPool(target.url));
}

const committer = open(workerData as CommitTarget);
/** Which failures mean the database could not be reached for now: the job thread runs the job again later. */
const unavailable = (workerData as CommitTarget).kind === 'postgres' ? isPgUnavailable : isSqliteUnavailable;
// Awaited by each request, which answers with the failure; a thread with no request must not die
// of it. Open or not, the thread is up (CommitThread.ready).
const ready = (): void => port.postMessage({ ready: true });
committer.then(ready, ready);
let last: Promise<void> = Promise.resolve();
/** Set once the store is open, if it keeps checkpoints for idle moments (SQLite). */
let idle: IdleCheckpoint | null = null;
committer.then((store) => {
  const checkpoint = store.checkpointIdle?.bind(store);
  if (checkpoint) idle = new IdleCheckpoint(checkpoint, IDLE_CHECKPOINT_MS);
}, () => undefined);

port.on('message', (m: CommitRequest) => {
  // A request postpones the checkpoint at once, though it is answered after those before it.
  if ('close' in m) idle?.stop();
  else idle?.activity();
  // Built while the commits before it run (PostgreSQL), sent after them.
  const prepared = 'batch' in m ? committer.then((store) => store.prepareCommit?.(m.batch)) : undefined;
  prepared?.catch(() => undefined);
  last = last.then(() => handle(m, prepared)).then(() => idle?.activity());
});

/** Never throws: every request gets an answer, or its sender would wait forever. */
async function handle(m: CommitRequest, prepared: Promise<(() => Promise<void>) | undefined> | undefined): Promise<void> {
  let reply: CommitReply;
  try {
    const store = await committer;
    const commit = await prepared;
    if ('close' in m) {
      await store.close();
      reply = { id: m.id, ok: true };
    } else if (m.reserveIds && store.commitBatchReserving) {
      reply = { id: m.id, ok: true, reserved: store.commitBatchReserving(m.batch, m.reserveIds) };
    } else if (commit) {
      await commit();
      reply = { id: m.id, ok: true };
    } else {
      await store.commitBatch(m.batch);
      reply = { id: m.id, ok: true };
    }
  } catch (e) {
    // The job id travels as the message: LeaseLostError is rebuilt with it on the other side.
    if (e instanceof LeaseLostError && 'batch' in m) reply = { id: m.id, ok: false, failure: 'leaseLost', message: m.batch.jobId };
    else if (e instanceof UniqueConflictError) reply = { id: m.id, ok: false, failure: 'uniqueConflict', message: e.detail };
    else if (unavailable(e)) reply = { id: m.id, ok: false, failure: 'unavailable', message: String(e) };
    else reply = { id: m.id, ok: false, failure: 'other', message: String(e) };
  }
  // A lent buffer goes back, however the commit ended: nothing here reads it any more.
  const lent = 'batch' in m && m.lent ? m.batch.inserts.lines?.bytes.buffer : undefined;
  if (lent instanceof ArrayBuffer) port?.postMessage({ ...reply, returned: lent }, [lent]);
  else port?.postMessage(reply);
}
