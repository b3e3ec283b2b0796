import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Job } from '../../src/domain/job.js';
import { PROFILES } from '../../src/domain/limits.js';
import { JobRunner } from '../../src/ingest/job-runner.js';
import { FsBlobStore } from '../../src/blob/fs/fs-blob-store.js';
import type { CallbackService } from '../../src/services/callback-service.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { JobWorker } from '../../src/worker/job-worker.js';
import { aJob, seedOrg } from '../store/store-builders.js';

let dir: string;
let store: SqliteStore;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'bulkwright-worker-'));
  store = new SqliteStore(path.join(dir, 'bulkwright.db'));
});

afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

it('waits longer and longer before running again a job that fails unexpectedly, instead of spinning', async () => {
  const org = await seedOrg(store);
  const [jobId] = (await store.allocateIds(1)) as [string];
  await store.createJob(aJob(org, jobId));
  const runs: number[] = [];
  const runner = {
    run: async (job: Job) => {
      runs.push(performance.now());
      if (runs.length < 4) throw new Error(`store unavailable while running ${job.id}`);
      return { ...job, status: 'COMPLETED' as const };
    },
  } as unknown as JobRunner;
  const logs: string[] = [];
  const worker = new JobWorker({
    id: 'worker-test', store, runner, callbacks: { wake: () => undefined } as unknown as CallbackService,
    concurrency: 1, leaseMs: 10_000, pollMs: 10, retryBaseMs: 100, log: (_level, msg) => logs.push(msg),
  });
  worker.start();
  try {
    await expect.poll(() => runs.length, { timeout: 5_000, interval: 20 }).toBe(4);
  } finally {
    await worker.stop();
  }
  const gaps = runs.slice(1).map((t, i) => t - (runs[i] as number));
  // 100, 200, 400 ms: doubling from retryBaseMs (the claim poll adds up to a few ms).
  expect(gaps[0]).toBeGreaterThanOrEqual(95);
  expect(gaps[1]).toBeGreaterThanOrEqual(195);
  expect(gaps[2]).toBeGreaterThanOrEqual(395);
  expect(logs.filter((m) => m.includes('retried in'))).toEqual([
    expect.stringContaining('failure 1; retried in 100 ms'),
    expect.stringContaining('failure 2; retried in 200 ms'),
    expect.stringContaining('failure 3; retried in 400 ms'),
  ]);
  // Run again by the worker that failed it, once the wait was over: not lost, not run twice at once.
  expect(logs.some((m) => m.includes(`job ${jobId} completed by worker-test`))).toBe(true);
});

it('ends FAILED a job whose runs keep stopping, after as many as it allows, with its callback', async () => {
  const org = await seedOrg(store);
  const [jobId] = (await store.allocateIds(1)) as [string];
  await store.createJob({ ...aJob(org, jobId), callback: { url: 'http://127.0.0.1:9/never', method: 'post' } });
  // The store fails every run of this job as it starts its resource, as a store in trouble would.
  const failing = new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'startResource') return async () => Promise.reject(new Error('disk I/O error'));
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  const runner = new JobRunner({
    store: failing, blobs: new FsBlobStore(path.join(dir, 'blobs')), limits: PROFILES.zoho, batchSize: 100, leaseMs: 10_000,
    downloadUrl: () => 'http://127.0.0.1/never', log: () => undefined,
  });
  const logs: string[] = [];
  const wakes: number[] = [];
  const worker = new JobWorker({
    id: 'worker-test', store: failing, runner, callbacks: { wake: () => wakes.push(1) } as unknown as CallbackService,
    concurrency: 1, leaseMs: 10_000, pollMs: 10, retryBaseMs: 10, maxInterruptedRuns: 3, log: (_level, msg) => logs.push(msg),
  });
  worker.start();
  try {
    await expect.poll(async () => (await store.getJob(org.orgId, jobId))?.status, { timeout: 5_000, interval: 20 }).toBe('FAILED');
  } finally {
    await worker.stop();
  }
  expect(logs.filter((m) => m.includes('disk I/O error'))).toHaveLength(3);
  const job = await store.getJob(org.orgId, jobId);
  expect(job?.failure).toBe('its last 3 runs stopped at row 0 without committing a batch (the workers\' logs say why)');
  expect(job?.resources[0]?.progress).toMatchObject({ status: 'FAILED', code: 'CANNOT_PROCESS' });
  // Ended, not left to the lease: no worker claims it again, and its callback is due.
  expect(await store.claimJob('worker-other', 10_000, new Date(Date.now() + 60_000))).toBeNull();
  expect(wakes.length).toBeGreaterThan(0);
});
