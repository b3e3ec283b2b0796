import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from '../config.js';
import { openStores } from '../server.js';
import { startJobProcessing, type LogFn } from './job-processing.js';

/**
 * Entry of the job thread: jobs run here, off the thread that answers HTTP, with their own store
 * connection (SQLite in WAL mode lets the HTTP thread read while this one writes).
 */
export type ToJobThread = { type: 'wake' } | { type: 'drain'; id: number } | { type: 'stop' };
export type FromJobThread =
  | { type: 'log'; level: 'info' | 'warn' | 'error'; msg: string }
  | { type: 'started' }
  | { type: 'drained'; id: number }
  | { type: 'stopped' };

const port = parentPort;
if (!port) throw new Error('worker-thread.js runs as a worker thread');
const { config, baseUrl } = workerData as { config: Config; baseUrl: string };
const post = (m: FromJobThread): void => port.postMessage(m);
const log: LogFn = (level, msg) => post({ type: 'log', level, msg });

const stores = await openStores(config, { writerThread: true });
const processing = startJobProcessing(config, stores, baseUrl, log);
post({ type: 'started' });
port.on('message', (m: ToJobThread) => {
  if (m.type === 'wake') processing.wake();
  else if (m.type === 'drain') void processing.drainCallbacks().then(() => post({ type: 'drained', id: m.id }));
  else {
    void processing
      .stop()
      .then(() => stores.store.close())
      .then(() => post({ type: 'stopped' }));
  }
});
