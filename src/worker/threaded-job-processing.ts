import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { Config } from '../config.js';
import { threadEntry } from '../thread-entry.js';
import type { JobProcessing, LogFn } from './job-processing.js';
import type { FromJobThread, ToJobThread } from './worker-thread.js';

/**
 * Runs job processing in a worker thread so that ingest never delays HTTP answers.
 * @param onFailure called when the thread dies other than by stop() (a process that only runs jobs then has no purpose).
 */
export function startThreadedJobProcessing(config: Config, baseUrl: string, log: LogFn, onFailure?: (e: Error) => void): JobProcessing {
  // V8's GC, tuned for the job thread, which allocates ~1.5 GB per million rows, most of it a
  // batch's records and cells, alive until the batch is sent (measured with bench/: a 1M-row insert
  // +17%, upsert +25%, and a lower peak memory, alternating runs against 12 MB and V8's defaults):
  // - young-generation GCs (scavenges) on the collecting thread alone: in parallel, on two cores
  //   that the commit thread keeps busy, each waited ~5 ms for V8's helper threads to get a core;
  // - a 32 MB young generation: with 12 MB the job thread scavenged every ~15 ms, each time copying
  //   the batch in hand (578 scavenges per million rows; 1 in 4 with 32 MB);
  // - the old generation grown to at most twice what was live after the last full GC (V8 lets it
  //   reach 4×: the job thread's heap went from ~15 to ~70 MB between full GCs), which more than
  //   pays for the larger young generation's memory.
  // V8's flags are process-wide; both are read at each GC, so setting them before the first job
  // is enough.
  // On PostgreSQL, 96 MB: since its inserts go as their CSV lines (RecordRows.lines), the commit
  // thread has the least to do per batch, and the job thread bounds the job; fewer scavenges there
  // (each copies the batch in hand) took 1.5–2.7 s off the process's CPU per 1M-row insert, the job
  // faster in 3 of 3 alternating pairs, for 30–45 MB more peak memory (no goal is set for it on
  // PostgreSQL; SQLite's is 256 MB, and its job thread keeps 32).
  setFlagsFromString('--no-parallel-scavenge');
  setFlagsFromString('--heap-growing-percent=100');
  const thread = new Worker(threadEntry(import.meta.url, 'worker-thread.js'), {
    workerData: { config, baseUrl },
    resourceLimits: { maxYoungGenerationSizeMb: config.databaseUrl ? 96 : 32 },
  });
  const send = (m: ToJobThread): void => thread.postMessage(m);
  const drains = new Map<number, () => void>();
  let nextDrain = 0;
  let stopping = false;
  let exited = false;
  let stopped: (() => void) | null = null;
  let settleStart: (e?: Error) => void = () => undefined;
  const started = new Promise<void>((resolve, reject) => {
    settleStart = (e) => (e ? reject(e) : resolve());
  });
  // Awaited by whoever starts processing; the catch only keeps a refusal from going unhandled when no one does.
  started.catch(() => undefined);
  thread.on('message', (m: FromJobThread) => {
    if (m.type === 'log') log(m.level, m.msg);
    else if (m.type === 'started') settleStart();
    else if (m.type === 'drained') drains.get(m.id)?.();
    else stopped?.();
  });
  thread.on('error', (e) => {
    log('error', `job thread failed: ${e.stack ?? e.message}`);
    settleStart(e);
  });
  thread.once('exit', (code) => {
    exited = true;
    const e = new Error(`the job thread exited with code ${code}`);
    settleStart(e);
    for (const resolve of drains.values()) resolve();
    stopped?.();
    if (!stopping) onFailure?.(e);
  });
  return {
    started,
    wake: () => send({ type: 'wake' }),
    drainCallbacks: () =>
      new Promise((resolve) => {
        if (exited) return resolve();
        const id = nextDrain++;
        drains.set(id, () => {
          drains.delete(id);
          resolve();
        });
        send({ type: 'drain', id });
      }),
    async stop() {
      stopping = true;
      if (exited) return;
      await new Promise<void>((resolve) => {
        stopped = resolve;
        send({ type: 'stop' });
      });
      await thread.terminate();
    },
  };
}
