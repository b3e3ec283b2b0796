import Database from 'better-sqlite3';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { leadsCsv, manyLeads } from '../support/builders.js';
import { partBytes } from '../support/result-parts.js';
import { unzipEntries, zipCsv } from '../support/zip.js';
import { apiOf, startServe, startWorker, type BulkwrightProcess, type Serve } from './bulkwright-processes.js';
import { checkpointOf, countLeads, createLeadsJob, expectRanOnce, fileOf, waitForProgress } from './job-checks.js';

/**
 * The embedded store across process deaths: a restarted `serve` (or a new `worker` on the same
 * data dir) resumes the job from its checkpoint at once, since the dead holder's pid is gone,
 * rather than when its 30 s lease runs out.
 */
let dataDir: string;
let processes: BulkwrightProcess[];

const serve = async (...extra: string[]): Promise<Serve> => {
  const s = await startServe(['--data-dir', dataDir, '--profile', 'unlimited', ...extra]);
  processes.push(s.process);
  return s;
};

beforeEach(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'bulkwright-restart-'));
  processes = [];
});

afterEach(async () => {
  await Promise.all(processes.map((p) => p.kill('SIGKILL')));
  await rm(dataDir, { recursive: true, force: true });
});

describe('serve on SQLite', () => {
  it('resumes a 200,000-row job from its checkpoint when restarted after SIGKILL', async () => {
    const rows = 200_000;
    const first = await serve();
    const firstApi = await apiOf(dataDir, first.baseUrl);
    const jobId = await createLeadsJob(firstApi, rows);
    await waitForProgress(firstApi, jobId, rows * 0.1, rows * 0.9);
    expect((await first.process.kill('SIGKILL')).signal).toBe('SIGKILL');
    const atKill = await checkpointOf({ dataDir }, firstApi.server.orgId, jobId);
    expect(atKill.status).toBe('INPROGRESS');
    expect(atKill.rowsDone).toBeGreaterThan(0);

    const restarted = Date.now();
    const second = await serve();
    const api = await apiOf(dataDir, second.baseUrl);
    await second.process.waitForStderr(new RegExp(`job ${jobId} claimed by`), 10_000);
    expect(Date.now() - restarted).toBeLessThan(10_000);
    expect(second.process.claims()).toEqual([expect.objectContaining({ jobId, row: atKill.rowsDone })]);
    await expectRanOnce(api, jobId, rows);
    expect(await countLeads({ dataDir }, api.server.orgId)).toBe(rows);
  });

  it('exits 0 promptly on SIGTERM mid-job and finishes the job when started again', async () => {
    const rows = 100_000;
    const first = await serve();
    const firstApi = await apiOf(dataDir, first.baseUrl);
    const jobId = await createLeadsJob(firstApi, rows);
    await waitForProgress(firstApi, jobId, rows * 0.1, rows * 0.9);
    const t0 = Date.now();
    expect(await first.process.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(first.process.stderr).toMatch(new RegExp(`job ${jobId} paused at resource 0 row \\d+ for shutdown`));

    const atStop = await checkpointOf({ dataDir }, firstApi.server.orgId, jobId);
    expect(atStop.status).toBe('INPROGRESS');
    expect(atStop.rowsDone).toBeGreaterThan(0);
    expect(atStop.rowsDone).toBeLessThan(rows);

    const second = await serve();
    const api = await apiOf(dataDir, second.baseUrl);
    await second.process.waitForStderr(new RegExp(`job ${jobId} claimed by`), 10_000);
    expect(second.process.claims()).toEqual([expect.objectContaining({ jobId, row: atStop.rowsDone })]);
    await expectRanOnce(api, jobId, rows);
    expect(await countLeads({ dataDir }, api.server.orgId)).toBe(rows);
  });
});

/** A result chunk as this version keeps it (store/result-chunks.ts). */
type KeptChunk = { data: Buffer; raw_bytes: number | null; crc: number | null };

/** The lines an earlier version would have appended to its file, from this version's chunks. */
const linesOf = (chunks: readonly KeptChunk[]): Buffer =>
  Buffer.concat(chunks.map((c) => partBytes(c.raw_bytes === null ? c.data : { deflated: c.data, rawBytes: c.raw_bytes, crc: c.crc ?? 0 })));

describe('serve on SQLite after an upgrade', () => {
  it('resumes a job paused by a version that kept result lines in a file beside the database', async () => {
    const rows = 100_000;
    const first = await serve();
    const firstApi = await apiOf(dataDir, first.baseUrl);
    const jobId = await createLeadsJob(firstApi, rows);
    await waitForProgress(firstApi, jobId, rows * 0.1, rows * 0.9);
    await first.process.kill('SIGKILL');
    // Where that version left the lines: results/<job>/<resource>.csv, and none in the database.
    const db = new Database(path.join(dataDir, 'bulkwright.db'));
    try {
      const chunks = db.prepare('SELECT data, raw_bytes, crc FROM result_chunks WHERE job_id = ? ORDER BY pos').all(jobId) as KeptChunk[];
      expect(chunks.length).toBeGreaterThan(1);
      await mkdir(path.join(dataDir, 'blobs', 'results', jobId), { recursive: true });
      await writeFile(path.join(dataDir, 'blobs', 'results', jobId, '0.csv'), linesOf(chunks));
      db.prepare('DELETE FROM result_chunks WHERE job_id = ?').run(jobId);
    } finally {
      db.close();
    }

    const second = await serve();
    const api = await apiOf(dataDir, second.baseUrl);
    await expectRanOnce(api, jobId, rows);
    expect(await countLeads({ dataDir }, api.server.orgId)).toBe(rows);
    await expect(stat(path.join(dataDir, 'blobs', 'results', jobId, '0.csv'))).rejects.toThrow(/ENOENT/);
  });

  it('zips the lines of a resource that version had finished, and of the one it was in', async () => {
    const first = await serve();
    const firstApi = await apiOf(dataDir, first.baseUrl);
    const upload = async (n: number, start: number): Promise<string> =>
      firstApi.uploadFileId(await zipCsv('leads.csv', leadsCsv(['Last_Name', 'Email'], manyLeads(n, undefined, start))));
    const resource = (fileId: string) => ({
      type: 'data', module: { api_name: 'Leads' }, file_id: fileId, field_mappings: [{ api_name: 'Last_Name', index: 0 }, { api_name: 'Email', index: 1 }],
    });
    const jobId = await firstApi.createJobId({ operation: 'insert', resource: [resource(await upload(20_000, 0)), resource(await upload(150_000, 20_000))] });
    for (;;) {
      const job = (await firstApi.getJob(jobId)).json as { status: string; resource: { file: { total_count?: number } }[] };
      const second = job.resource[1]?.file.total_count ?? 0;
      if (second >= 15_000) break;
      expect(['ADDED', 'INPROGRESS']).toContain(job.status);
      await sleep(20);
    }
    await first.process.kill('SIGKILL');
    const db = new Database(path.join(dataDir, 'bulkwright.db'));
    try {
      for (const idx of [0, 1]) {
        const chunks = db.prepare('SELECT data, raw_bytes, crc FROM result_chunks WHERE job_id = ? AND idx = ? ORDER BY pos').all(jobId, idx) as KeptChunk[];
        await mkdir(path.join(dataDir, 'blobs', 'results', jobId), { recursive: true });
        await writeFile(path.join(dataDir, 'blobs', 'results', jobId, `${idx}.csv`), linesOf(chunks));
      }
      db.prepare('DELETE FROM result_chunks WHERE job_id = ?').run(jobId);
    } finally {
      db.close();
    }

    const second = await serve();
    const api = await apiOf(dataDir, second.baseUrl);
    const job = await api.waitForJob(jobId, 120_000);
    expect(job.status).toBe('COMPLETED');
    const dl = await api.download((job.result as { download_url: string }).download_url);
    const csvs = [...(await unzipEntries(dl.body)).values()].map((b) => b.toString('utf8').split('\n'));
    expect(csvs.map((lines) => lines.length - 2)).toEqual([20_000, 150_000]);
    expect(csvs.map((lines) => [lines[1]?.split(',')[0], lines.at(-2)?.split(',')[0]])).toEqual([['Lead 0', 'Lead 19999'], ['Lead 20000', 'Lead 169999']]);
    expect(await countLeads({ dataDir }, api.server.orgId)).toBe(170_000);
    for (const idx of [0, 1]) await expect(stat(path.join(dataDir, 'blobs', 'results', jobId, `${idx}.csv`))).rejects.toThrow(/ENOENT/);
  });
});

describe('worker processes on the data dir of serve --no-worker', () => {
  it('take over the job of a worker killed mid-job at once, and finish it exactly once', async () => {
    const rows = 100_000;
    const api = await serve('--no-worker').then((s) => apiOf(dataDir, s.baseUrl));
    const worker = async (): Promise<BulkwrightProcess> => {
      const w = await startWorker(['--data-dir', dataDir, '--profile', 'unlimited', '--public-url', api.server.baseUrl]);
      processes.push(w);
      return w;
    };
    const jobId = await createLeadsJob(api, rows);
    const first = await worker();
    await waitForProgress(api, jobId, rows * 0.1, rows * 0.9);
    await first.kill('SIGKILL');
    const atKill = fileOf((await api.getJob(jobId)).json).total_count ?? 0;

    const second = await worker();
    await second.waitForStderr(new RegExp(`job ${jobId} claimed by`), 10_000);
    expect(second.claims()).toEqual([expect.objectContaining({ jobId, row: atKill })]);
    await expectRanOnce(api, jobId, rows);
    expect(await countLeads({ dataDir }, api.server.orgId)).toBe(rows);
  });
});
