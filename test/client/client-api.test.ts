import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BulkwrightClient, JobWaitTimeoutError, resolveDomains, ZohoApiError, type JobDetails, type ResultRow } from '@bulkwright/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leadsCsv } from '../support/builders.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { zipCsv } from '../support/zip.js';

let server: TestServer;
let client: BulkwrightClient;
let work: string;

beforeAll(async () => {
  server = await startTestServer();
  client = new BulkwrightClient({ apiDomain: server.baseUrl, accessToken: server.token, orgId: server.orgId });
  work = await mkdtemp(path.join(tmpdir(), 'bulkwright-client-'));
});

afterAll(async () => {
  await server.close();
  await rm(work, { recursive: true, force: true });
});

async function collect<T>(rows: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const row of rows) out.push(row);
  return out;
}

describe('BulkwrightClient against a server', () => {
  it('uploads, creates, waits with progress, and streams the result rows', async () => {
    const zip = await zipCsv('leads.csv', leadsCsv(['Last_Name', 'Email'], [
      { Last_Name: 'Boyle', Email: 'api1@zylker.com' },
      { Last_Name: '', Email: 'api2@zylker.com' },
    ]));
    const uploaded = await client.uploadFile(zip, { fileName: 'leads.zip' });
    expect(uploaded).toMatchObject({ status: 'success', code: 'FILE_UPLOAD_SUCCESS', message: 'file uploaded.' });
    const created = await client.createJob({
      operation: 'insert',
      resource: [{ type: 'data', module: { api_name: 'Leads' }, file_id: uploaded.details.file_id, field_mappings: [{ api_name: 'Last_Name', index: 0 }, { api_name: 'Email', index: 1 }] }],
    });
    expect(created.details).toEqual({ id: expect.stringMatching(/^\d{19}$/), created_by: { id: server.userId, name: server.userName } });

    const seen: string[] = [];
    const job = await client.waitForJob(created.details.id, { pollIntervalMs: 50, onProgress: (j) => seen.push(j.status) });
    expect(job.status).toBe('COMPLETED');
    expect(seen.at(-1)).toBe('COMPLETED');
    expect(job.resource[0]?.file).toEqual({ status: 'COMPLETED', name: 'leads.csv', added_count: 1, skipped_count: 1, updated_count: 0, total_count: 2 });

    const rows = await collect(client.downloadResult(job));
    expect(rows).toEqual<ResultRow[]>([
      { row: 1, file: 'Leads-leads.csv', columns: ['Last_Name', 'Email'], values: ['Boyle', 'api1@zylker.com'], status: 'ADDED', recordId: expect.stringMatching(/^\d{19}$/) as unknown as string, errorText: '', errors: [] },
      { row: 2, file: 'Leads-leads.csv', columns: ['Last_Name', 'Email'], values: ['', 'api2@zylker.com'], status: 'SKIPPED', recordId: null, errorText: 'MANDATORY_NOT_FOUND-Last_Name', errors: [{ code: 'MANDATORY_NOT_FOUND', columns: ['Last_Name'] }] },
    ]);
    // By id as well as by job object.
    expect(await collect(client.downloadResult(job.id))).toHaveLength(2);
  });

  it('importCsv zips, uploads, creates, waits and sums up; importResults numbers rows across jobs', async () => {
    const file = path.join(work, 'five.csv');
    await writeFile(file, leadsCsv(['Last_Name', 'Email'], [1, 2, 3, 4, 5].map((n) => ({ Last_Name: `Five ${n}`, Email: n === 4 ? 'bad' : `five${n}@zylker.com` }))));
    const progress: number[] = [];
    const summary = await client.importCsv(file, { module: 'Leads', rowLimit: 2, pollIntervalMs: 50, onProgress: (p) => progress.push(p.rowsDone) });
    expect(summary).toMatchObject({ module: 'Leads', operation: 'insert', totalRows: 5, status: 'COMPLETED', added: 4, updated: 0, skipped: 1 });
    expect(summary.jobs.map((j) => [j.file, j.firstRow, j.rows, j.details?.status])).toEqual([
      ['five-part1.csv', 1, 2, 'COMPLETED'], ['five-part2.csv', 3, 2, 'COMPLETED'], ['five-part3.csv', 5, 1, 'COMPLETED'],
    ]);
    expect(progress.at(-1)).toBe(5);
    const rows = await collect(client.importResults(summary));
    expect(rows.map((r) => [r.row, r.values[0], r.status])).toEqual([
      [1, 'Five 1', 'ADDED'], [2, 'Five 2', 'ADDED'], [3, 'Five 3', 'ADDED'], [4, 'Five 4', 'SKIPPED'], [5, 'Five 5', 'ADDED'],
    ]);
    expect(rows.map((r) => r.jobId)).toEqual([0, 0, 1, 1, 2].map((k) => summary.jobs[k]?.id));
  });

  it('raises typed ZohoApiErrors for refused calls', async () => {
    const missing = await client.getJob('4150868000005350003').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ZohoApiError);
    expect(missing).toMatchObject({ status: 400, code: 'RESOURCE_NOT_FOUND', message: "The requested resource doesn't exist.", details: {} });
    const notZip = await client.uploadFile(Buffer.from('Last_Name\nx\n')).catch((e: unknown) => e);
    expect(notZip).toMatchObject({ status: 200, code: 'INVALID_FILE_FORMAT' });
    const stranger = new BulkwrightClient({ apiDomain: server.baseUrl, accessToken: '1000.nope' });
    expect(await stranger.getJob('4150868000005350003').catch((e: unknown) => e)).toMatchObject({ status: 401, code: 'INVALID_TOKEN', isTokenRejected: true });
  });

  it('lists recent jobs newest first through the Bulkwright extension', async () => {
    const { jobs } = await client.listJobs(2);
    expect(jobs).toHaveLength(2);
    expect(BigInt((jobs[0] as JobDetails).id)).toBeGreaterThan(BigInt((jobs[1] as JobDetails).id));
    expect(jobs[0]).toEqual(await client.getJob((jobs[0] as JobDetails).id));
    expect(await client.listJobs(0).catch((e: unknown) => e)).toMatchObject({ status: 400, code: 'INVALID_DATA', details: { api_name: 'limit' } });
    // Zoho's own path stays as on Zoho.
    const res = await fetch(`${server.baseUrl}/crm/bulk/v2.1/write`, { headers: { authorization: `Zoho-oauthtoken ${server.token}` } });
    expect(((await res.json()) as { code: string }).code).toBe('INVALID_REQUEST_METHOD');
  });

  it('gives up waiting after the timeout with JobWaitTimeoutError', async () => {
    const idle = await startTestServer({ worker: { enabled: false } });
    try {
      const c = new BulkwrightClient({ apiDomain: idle.baseUrl, accessToken: idle.token });
      const fileId = (await c.uploadFile(await zipCsv('a.csv', 'Last_Name\nA\n'))).details.file_id;
      const id = (await c.createJob({ operation: 'insert', resource: [{ type: 'data', module: 'Leads', file_id: fileId }] })).details.id;
      const failure = await c.waitForJob(id, { timeoutMs: 300, pollIntervalMs: 100 }).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(JobWaitTimeoutError);
      expect(failure).toMatchObject({ jobId: id, lastStatus: 'ADDED' });
    } finally {
      await idle.close();
    }
  });
});

describe('resolveDomains', () => {
  it("defaults to Zoho's US data centre and derives a data centre's hosts from its API domain", () => {
    expect(resolveDomains({})).toEqual({ api: 'https://www.zohoapis.com', upload: 'https://content.zohoapis.com', accounts: 'https://accounts.zoho.com' });
    expect(resolveDomains({ apiDomain: 'https://www.zohoapis.eu/' })).toEqual({ api: 'https://www.zohoapis.eu', upload: 'https://content.zohoapis.eu', accounts: 'https://accounts.zoho.eu' });
    expect(resolveDomains({ apiDomain: 'http://127.0.0.1:8080' })).toEqual({ api: 'http://127.0.0.1:8080', upload: 'http://127.0.0.1:8080', accounts: 'http://127.0.0.1:8080' });
    expect(resolveDomains({ apiDomain: 'http://a:1', uploadDomain: 'http://b:2' }).upload).toBe('http://b:2');
  });
});
