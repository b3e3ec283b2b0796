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
    // Errors are not interrupted runs: three of them do not end the job, whatever this limit.
    concurrency: 1, leaseMs: 10_000, pollMs: 10, retryBaseMs: 100, maxInterruptedRuns: 1, log: (_level, msg) => logs.push(msg),
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

it('ends FAILED, without running it, a job whose last runs all ended with their process, and sends its callback', async () => {
  const org = await seedOrg(store);
  const [jobId] = (await store.allocateIds(1)) as [string];
  await store.createJob({ ...aJob(org, jobId), callback: { url: 'http://127.0.0.1:9/never', method: 'post' } });
  // Three runs, each by a worker that went down before it committed a batch or let the job go.
  const t0 = Date.now() - 60_000;
  for (let i = 0; i < 3; i++) expect((await store.claimJob(`worker-gone-${i}`, 1, new Date(t0 + i * 10)))?.id).toBe(jobId);
  const runner = new JobRunner({
    store, blobs: new FsBlobStore(path.join(dir, 'blobs')), limits: PROFILES.zoho, batchSize: 100, leaseMs: 10_000,
    downloadUrl: () => 'http://127.0.0.1/never', log: () => undefined,
  });
  const runs: string[] = [];
  const run = runner.run.bind(runner);
  runner.run = async (job, ...rest) => {
    runs.push(job.id);
    return run(job, ...rest);
  };
  const wakes: number[] = [];
  const worker = new JobWorker({
    id: 'worker-test', store, runner, callbacks: { wake: () => wakes.push(1) } as unknown as CallbackService,
    concurrency: 1, leaseMs: 10_000, pollMs: 10, maxInterruptedRuns: 3, log: () => undefined,
  });
  worker.start();
  try {
    await expect.poll(async () => (await store.getJob(org.orgId, jobId))?.status, { timeout: 5_000, interval: 20 }).toBe('FAILED');
  } finally {
    await worker.stop();
  }
  expect(runs).toEqual([]);
  const job = await store.getJob(org.orgId, jobId);
  expect(job?.failure).toBe('its last 3 runs ended before committing a batch past row 0: their process went down or stalled each time');
  expect(job?.resources[0]?.progress).toMatchObject({ status: 'FAILED', code: 'CANNOT_PROCESS' });
  // Ended, not left to a lease: no worker claims it again, and its callback is due.
  expect(await store.claimJob('worker-other', 10_000, new Date(Date.now() + 60_000))).toBeNull();
  expect(wakes).toEqual([1]);
});

it('runs alone a job a crash may have interrupted, so that with --concurrency 2 its next crash is its own', async () => {
  const org = await seedOrg(store);
  const [suspect, first, second] = (await store.allocateIds(3)) as [string, string, string];
  const t0 = Date.UTC(2024, 0, 1);
  await store.createJob(aJob(org, first, new Date(t0)));
  await store.createJob(aJob(org, suspect, new Date(t0 + 1_000)));
  await store.createJob(aJob(org, second, new Date(t0 + 2_000)));
  // `first` and `suspect` ran together in a worker that went down: both were interrupted once.
  expect((await store.claimJob('worker-gone', 1, new Date(Date.now() - 60_000)))?.id).toBe(first);
  expect((await store.claimJob('worker-gone', 1, new Date(Date.now() - 60_000)))?.id).toBe(suspect);
  const running = new Set<string>();
  const beside = new Map<string, string[]>();
  const runner = {
    run: async (job: Job) => {
      beside.set(job.id, [...running]);
      running.add(job.id);
      await new Promise((resolve) => setTimeout(resolve, 150));
      for (const other of running) if (other !== job.id) beside.get(other)?.push(job.id);
      running.delete(job.id);
      return { ...job, status: 'COMPLETED' as const };
    },
  } as unknown as JobRunner;
  const logs: string[] = [];
  const worker = new JobWorker({
    id: 'worker-test', store, runner, callbacks: { wake: () => undefined } as unknown as CallbackService,
    concurrency: 2, leaseMs: 10_000, pollMs: 10, log: (_level, msg) => logs.push(msg),
  });
  // Two jobs never claimed run side by side, as --concurrency 2 asks.
  const [third, fourth] = (await store.allocateIds(2)) as [string, string];
  worker.start();
  try {
    await expect.poll(() => beside.size, { timeout: 5_000, interval: 20 }).toBe(3);
    await expect.poll(() => running.size, { timeout: 5_000, interval: 20 }).toBe(0);
    await store.createJob(aJob(org, third, new Date()));
    await store.createJob(aJob(org, fourth, new Date(Date.now() + 1)));
    worker.wake();
    await expect.poll(() => beside.size, { timeout: 5_000, interval: 20 }).toBe(5);
    await expect.poll(() => running.size, { timeout: 5_000, interval: 20 }).toBe(0);
  } finally {
    await worker.stop();
  }
  // Each interrupted job ran with no other job at any moment of its run; `second`, behind one of
  // them in the queue, waited for it rather than run beside it.
  expect(beside.get(first)).toEqual([]);
  expect(beside.get(suspect)).toEqual([]);
  expect(beside.get(second)).toEqual([]);
  // Two jobs never interrupted overlapped: the later to start found the other running.
  expect((beside.get(fourth) ?? []).includes(third) || (beside.get(third) ?? []).includes(fourth)).toBe(true);
  expect(logs).toContain(`job ${first} claimed by worker-test at row 0 (run alone: 1 interrupted run)`);
  expect(logs).toContain(`job ${suspect} claimed by worker-test at row 0 (run alone: 1 interrupted run)`);
});
