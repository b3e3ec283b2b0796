import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Config } from '../config.js';
import type { JobProcessing, LogFn } from './job-processing.js';
import type { FromJobThread, ToJobThread } from './worker-thread.js';

/** The thread's entry, compiled. Under the test runner this module is TypeScript; the thread runs dist/. */
function entryUrl(): URL {
  const sibling = new URL('./worker-thread.js', import.meta.url);
  if (existsSync(fileURLToPath(sibling))) return sibling;
  const built = new URL('../../dist/worker/worker-thread.js', import.meta.url);
  if (existsSync(fileURLToPath(built))) return built;
  throw new Error('the job thread needs a build: run npm run build');
}

/** Runs job processing in a worker thread so that ingest never delays HTTP answers. */
export function startThreadedJobProcessing(config: Config, baseUrl: string, log: LogFn): JobProcessing {
  const thread = new Worker(entryUrl(), { workerData: { config, baseUrl } });
  const send = (m: ToJobThread): void => thread.postMessage(m);
  const drains = new Map<number, () => void>();
  let nextDrain = 0;
  let stopped: (() => void) | null = null;
  thread.on('message', (m: FromJobThread) => {
    if (m.type === 'log') log(m.level, m.msg);
    else if (m.type === 'drained') drains.get(m.id)?.();
    else stopped?.();
  });
  thread.on('error', (e) => log('error', `job thread failed: ${e.stack ?? e.message}`));
  return {
    wake: () => send({ type: 'wake' }),
    drainCallbacks: () =>
      new Promise((resolve) => {
        const id = nextDrain++;
        drains.set(id, () => {
          drains.delete(id);
          resolve();
        });
        send({ type: 'drain', id });
      }),
    async stop() {
      await new Promise<void>((resolve) => {
        stopped = resolve;
        thread.once('exit', () => resolve());
        send({ type: 'stop' });
      });
      await thread.terminate();
    },
  };
}
