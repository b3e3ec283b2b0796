import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RawApi } from '../support/api-client.js';
import { CallbackReceiver } from '../support/callback-receiver.js';
import { createTestDatabase, queryTestDatabase, type TestDatabase } from '../support/test-database.js';
import { apiOf, startServe, startWorker, type BulkwrightProcess, type Serve } from './bulkwright-processes.js';
import { countLeads, createLeadsJob, expectRanOnce, fileOf, orgIds, waitForProgress } from './job-checks.js';

/**
 * `serve --no-worker` and `bulkwright worker` processes on one PostgreSQL, as on many machines:
 * jobs claimed with FOR UPDATE SKIP LOCKED under leases, and resumed from their checkpoint when
 * a worker dies or stops.
 */
let database: TestDatabase;
let dataDirs: string[];
let processes: BulkwrightProcess[];
/** The API of the `serve` that created the org, and the same org through the other `serve`. */
let api: RawApi;
let otherApi: RawApi;
let baseUrl: string;

const storeFlags = (): string[] => ['--database-url', database.url, '--profile', 'unlimited'];
const worker = (...extra: string[]): Promise<BulkwrightProcess> =>
  startWorker([...storeFlags(), '--public-url', baseUrl, ...extra]).then((w) => {
    processes.push(w);
    return w;
  });

/** Two API processes started together on the empty database: one of them creates the org (and writes credentials). */
beforeEach(async () => {
  database = await createTestDatabase();
  dataDirs = await Promise.all([0, 1].map(() => mkdtemp(path.join(tmpdir(), 'bulkwright-workers-'))));
  processes = [];
  const serves = await Promise.all(dataDirs.map((dir) => startServe([...storeFlags(), '--data-dir', dir, '--no-worker'])));
  processes.push(...serves.map((s) => s.process));
  const creator = dataDirs.findIndex((dir) => existsSync(path.join(dir, 'dev-credentials.json')));
  const [mine, other] = creator === 0 ? serves : [...serves].reverse();
  baseUrl = (mine as Serve).baseUrl;
  api = await apiOf(dataDirs[creator] as string, baseUrl);
  otherApi = new RawApi({ baseUrl: (other as Serve).baseUrl, orgId: api.server.orgId }, api.token);
});

afterEach(async () => {
  await Promise.all(processes.map((p) => p.kill('SIGKILL')));
  await database.drop();
  await Promise.all(dataDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('API processes starting together on an empty PostgreSQL', () => {
  it('create one org between them, and both serve it', async () => {
    expect(dataDirs.filter((dir) => existsSync(path.join(dir, 'dev-credentials.json')))).toHaveLength(1);
    expect(await orgIds({ databaseUrl: database.url })).toEqual([api.server.orgId]);
    expect((await otherApi.getJob('4150868000005350003')).json.code).toBe('RESOURCE_NOT_FOUND');
  });
});

describe('two workers on one PostgreSQL', () => {
  it('run each of ten jobs exactly once, and deliver each callback once', async () => {
    const receiver = new CallbackReceiver();
    const callbackUrl = await receiver.start();
    try {
      const [a, b] = await Promise.all([worker(), worker()]);
      const rows = 5_000;
      const jobIds: string[] = [];
      for (let j = 0; j < 10; j++) {
        jobIds.push(await createLeadsJob(j % 2 === 0 ? api : otherApi, rows, j * rows, { callback: { url: callbackUrl, method: 'post' } }));
      }
      for (const [j, id] of jobIds.entries()) await expectRanOnce(api, id, rows, j * rows);
      expect(await countLeads({ databaseUrl: database.url }, api.server.orgId)).toBe(10 * rows);

      const claims = [...(a as BulkwrightProcess).claims(), ...(b as BulkwrightProcess).claims()];
      expect(claims.map((c) => c.jobId).sort()).toEqual([...jobIds].sort());
      expect(claims.every((c) => c.row === 0)).toBe(true);
      // Both took part: the queue hands jobs to whichever worker asks first.
      expect(a?.claims().length).toBeGreaterThan(0);
      expect(b?.claims().length).toBeGreaterThan(0);

      await receiver.waitFor(10);
      await sleep(1000);
      expect(receiver.received.map((r) => r.body.id).sort()).toEqual([...jobIds].sort());
    } finally {
      await receiver.stop();
    }
  });
});

describe('a worker whose PostgreSQL connections all end mid-job (as when the server restarts)', () => {
  it('runs the job again from its checkpoint, in the same process, and it completes once', async () => {
    const rows = 200_000;
    const jobId = await createLeadsJob(api, rows);
    const only = await worker('--lease-ms', '2000');
    await waitForProgress(api, jobId, rows * 0.1, rows * 0.7);
    // Every connection of every Bulkwright process: the job thread's, the commit thread's (before
    // the fix, its checked-out client's 'error' event killed the thread, and the job waited forever
    // for commits under a lease it kept renewing), the blob reader's (its error failed the job as
    // if the file were unreadable), and the API processes' idle ones. An idle connection's end
    // costs nothing (the pool opens another), so again until one ends under a running statement
    // and the run stops.
    const stopped = new RegExp(`job ${jobId} stopped \\(failure 1; retried in \\d+ ms\\): StoreUnavailableError`);
    let atEnd = 0;
    for (let tries = 0; !stopped.test(only.stderr); tries++) {
      expect(tries).toBeLessThan(100);
      atEnd = fileOf((await api.getJob(jobId)).json).total_count ?? 0;
      await queryTestDatabase(database.url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'bulkwright'");
      await sleep(50);
    }

    await expectRanOnce(api, jobId, rows);
    expect(await countLeads({ databaseUrl: database.url }, api.server.orgId)).toBe(rows);
    // Run again by the same process, from a checkpoint at least as far as the last one seen.
    const claims = only.claims();
    expect(claims.length).toBeGreaterThanOrEqual(2);
    expect(claims.every((c) => c.jobId === jobId)).toBe(true);
    expect(claims.at(-1)?.row).toBeGreaterThanOrEqual(atEnd);
    expect(only.stderr).not.toMatch(/resource 0 failed/);
  });
});

describe('a worker that dies or stops mid-job', () => {
  it('is replaced by a new worker that resumes a 200,000-row job from its checkpoint after SIGKILL', async () => {
    const rows = 200_000;
    const jobId = await createLeadsJob(api, rows);
    // A short lease: the new worker takes the job over once the dead one's lease runs out.
    const first = await worker('--lease-ms', '2000');
    await waitForProgress(api, jobId, rows * 0.1, rows * 0.9);
    expect((await first.kill('SIGKILL')).signal).toBe('SIGKILL');
    const atKill = fileOf((await api.getJob(jobId)).json).total_count ?? 0;

    const second = await worker('--lease-ms', '2000');
    await expectRanOnce(api, jobId, rows);
    expect(await countLeads({ databaseUrl: database.url }, api.server.orgId)).toBe(rows);
    const [resumed] = second.claims();
    expect(resumed?.jobId).toBe(jobId);
    // Its checkpoint: what the dead worker last committed (a COMMIT sent just before the kill may land after our read).
    expect(resumed?.row).toBeGreaterThanOrEqual(atKill);
    expect(resumed?.row).toBeLessThan(rows);
  });

  it('with --concurrency 2, runs each job it was running alone in the next worker, and both complete once', async () => {
    const rows = 100_000;
    const jobIds = [await createLeadsJob(api, rows), await createLeadsJob(api, rows, rows)];
    const first = await worker('--lease-ms', '2000', '--concurrency', '2');
    for (const id of jobIds) await waitForProgress(api, id, 2_000, rows * 0.9);
    expect((await first.kill('SIGKILL')).signal).toBe('SIGKILL');
    expect(first.claims().map((c) => c.jobId).sort()).toEqual([...jobIds].sort());

    // Either job may have been the one that brought the process down: each is run alone, so that
    // a crash in its run is its own, and one that kills every process it runs in cannot take the
    // other with it.
    const second = await worker('--lease-ms', '2000', '--concurrency', '2');
    for (const [j, id] of jobIds.entries()) await expectRanOnce(api, id, rows, j * rows);
    expect(await countLeads({ databaseUrl: database.url }, api.server.orgId)).toBe(2 * rows);
    const log = second.stderr;
    for (const id of jobIds) expect(log).toMatch(new RegExp(`job ${id} claimed by worker-\\d+-[0-9a-f]+ at row \\d+ \\(run alone: 1 interrupted run\\)`));
    const [a, b] = jobIds.map((id) => ({ claimed: log.indexOf(`job ${id} claimed by`), completed: log.indexOf(`job ${id} completed by`) }));
    const [one, other] = (a as { claimed: number }).claimed < (b as { claimed: number }).claimed ? [a, b] : [b, a];
    expect(one?.completed).toBeGreaterThan(0);
    expect(other?.claimed).toBeGreaterThan(one?.completed ?? Infinity);
  });

  it('exits 0 promptly on SIGTERM mid-job, releasing the job to the next worker at its checkpoint', async () => {
    const rows = 100_000;
    const jobId = await createLeadsJob(api, rows);
    // The default 30 s lease: the next worker can take the job at once only because it was released.
    const first = await worker();
    await waitForProgress(api, jobId, rows * 0.1, rows * 0.9);
    const t0 = Date.now();
    expect(await first.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(first.stderr).toMatch(new RegExp(`job ${jobId} paused at resource 0 row \\d+ for shutdown`));
    const paused = (await api.getJob(jobId)).json;
    expect(paused.status).toBe('INPROGRESS');
    const atStop = fileOf(paused).total_count ?? 0;
    expect(atStop).toBeGreaterThan(0);
    expect(atStop).toBeLessThan(rows);

    const started = Date.now();
    const second = await worker();
    await second.waitForStderr(new RegExp(`job ${jobId} claimed by`), 10_000);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(second.claims()).toEqual([expect.objectContaining({ jobId, row: atStop })]);
    await expectRanOnce(api, jobId, rows);
    expect(await countLeads({ databaseUrl: database.url }, api.server.orgId)).toBe(rows);
  });
});
