import { parentPort, workerData } from 'node:worker_threads';
import { LeaseLostError, UniqueConflictError } from '../../ports/store.js';
import { SqliteStore } from './sqlite-store.js';
import type { WriterReply, WriterRequest } from './sqlite-writer.js';

/** Entry of the SQLite writer thread: applies batch commits one after another, in order. */
const port = parentPort;
if (!port) throw new Error('sqlite-writer-thread.js runs as a worker thread');
const store = new SqliteStore((workerData as { file: string }).file, { cacheMb: 16 });

port.on('message', (m: WriterRequest) => {
  let reply: WriterReply;
  if ('close' in m) {
    void store.close().then(() => port.postMessage({ id: m.id, ok: true } satisfies WriterReply));
    return;
  }
  try {
    store.commitBatchSync(m.batch);
    reply = { id: m.id, ok: true };
  } catch (e) {
    // The job id travels as the message: LeaseLostError is rebuilt with it on the other side.
    if (e instanceof LeaseLostError) reply = { id: m.id, ok: false, failure: 'leaseLost', message: m.batch.jobId };
    else if (e instanceof UniqueConflictError) reply = { id: m.id, ok: false, failure: 'uniqueConflict', message: e.detail };
    else reply = { id: m.id, ok: false, failure: 'other', message: String(e) };
  }
  port.postMessage(reply);
});
