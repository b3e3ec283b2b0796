import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectZohoHeaders, parseResultCsv, RawApi } from '../support/api-client.js';
import { insertLeadsBody, leadsCsv, manyLeads, type LeadRow } from '../support/builders.js';
import { CallbackReceiver } from '../support/callback-receiver.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { keyOrder, shapeOf } from '../support/shape.js';
import { unzipEntries, zipCsv } from '../support/zip.js';

const ISO_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+05:30$/;
const DIGITS = /^[1-9]\d{14,18}$/;

let server: TestServer;
let api: RawApi;

beforeAll(async () => {
  server = await startTestServer();
  api = new RawApi(server, server.token);
});

afterAll(async () => {
  await server.close();
});

const MAP_LAST_MOBILE_OWNER_EMAIL = [
  { api_name: 'Owner', index: 2 },
  { api_name: 'Last_Name', index: 0 },
  { api_name: 'Mobile', index: 1 },
  { api_name: 'Email', index: 3 },
];

async function runJob(body: unknown): Promise<{ job: Record<string, unknown>; rows: Record<string, string>[]; header: string[]; entry: string }> {
  const jobId = await api.createJobId(body);
  const job = await api.waitForJob(jobId);
  expect(job.status).toBe('COMPLETED');
  const dl = await api.download((job.result as { download_url: string }).download_url);
  expect(dl.status).toBe(200);
  const entries = await unzipEntries(dl.body);
  expect(entries.size).toBe(1);
  const [entry, content] = [...entries][0] as [string, Buffer];
  const { header, rows } = parseResultCsv(content.toString('utf8'));
  return { job, rows, header, entry };
}

function fileOf(job: Record<string, unknown>): Record<string, unknown> {
  return ((job.resource as Record<string, unknown>[])[0] as { file: Record<string, unknown> }).file;
}

async function uploadLeads(rows: readonly LeadRow[], name = 'leads.csv'): Promise<string> {
  return api.uploadFileId(await zipCsv(name, leadsCsv(['Last_Name', 'Mobile', 'Owner', 'Email'], rows)));
}

describe('an insert job like the seed (Last_Name, Mobile, Owner)', () => {
  it('completes with the seed shape, a result row per input row, and the records in the store', async () => {
    const receiver = new CallbackReceiver();
    const callbackUrl = await receiver.start();
    const before = await server.countRecords('Leads');
    const fileId = await uploadLeads([
      { Last_Name: 'Boyle', Mobile: '555-0100', Owner: server.userId, Email: 'pb@zylker.com' },
      { Last_Name: 'Smith', Mobile: '555-0101', Owner: server.userId, Email: 'smith@zylker.com' },
      { Last_Name: '', Mobile: '555-0102', Owner: server.userId, Email: 'noname@zylker.com' },
      { Last_Name: 'Again', Mobile: '555-0103', Owner: server.userId, Email: 'PB@zylker.com' },
      { Last_Name: 'Ghost', Mobile: '555-0104', Owner: '4150868000000225013', Email: 'ghost@zylker.com' },
      { Last_Name: 'Bad', Mobile: 'call me', Owner: server.userId, Email: 'not-an-email' },
      { Last_Name: 'Nobody', Mobile: '', Owner: '', Email: '' },
    ], 'Fil2.csv');
    const { job, rows, header, entry } = await runJob({
      ...insertLeadsBody(fileId, MAP_LAST_MOBILE_OWNER_EMAIL),
      ignore_empty: true,
      callback: { url: callbackUrl, method: 'post' },
    });

    const seed = JSON.parse(await readFile(new URL('../fixtures/seed-job-details-completed.json', import.meta.url), 'utf8')) as unknown;
    expect(shapeOf(job)).toEqual(shapeOf(seed));
    expect(keyOrder({ ...job, resource: [] })).toEqual(keyOrder({ ...(seed as object), resource: [] }));
    const resource = (job.resource as Record<string, unknown>[])[0] as Record<string, unknown>;
    expect(Object.keys(resource)).toEqual(['status', 'type', 'module', 'field_mappings', 'file', 'code']);
    expect(resource.field_mappings).toEqual(
      MAP_LAST_MOBILE_OWNER_EMAIL.map((m) => ({ api_name: m.api_name, index: m.index, format: null, find_by: null, module: null, default_value: null })),
    );
    expect(resource).toMatchObject({ status: 'COMPLETED', type: 'data', code: 'COMPLETED', module: { api_name: 'Leads' } });
    expect((resource.module as { id: string }).id).toMatch(DIGITS);
    expect(fileOf(job)).toEqual({ status: 'COMPLETED', name: 'Fil2.csv', added_count: 3, skipped_count: 4, updated_count: 0, total_count: 7 });
    expect(job).toMatchObject({
      status: 'COMPLETED', character_encoding: 'UTF-8', ignore_empty: true, operation: 'insert',
      created_by: { id: server.userId, name: server.userName }, callback: { url: callbackUrl, method: 'post' },
    });
    expect(job.created_time).toMatch(ISO_OFFSET);
    expect((job.result as { download_url: string }).download_url).toBe(
      `${server.baseUrl}/v2/crm/${server.orgId}/bulk-write/${String(job.id)}/${String(job.id)}.zip`,
    );

    expect(entry).toBe('Leads-Fil2.csv');
    expect(header).toEqual(['Last_Name', 'Mobile', 'Owner', 'STATUS', 'RECORD_ID', 'ERRORS']);
    expect(rows.map((r) => [r.Last_Name, r.STATUS, r.ERRORS])).toEqual([
      ['Boyle', 'ADDED', ''],
      ['Smith', 'ADDED', ''],
      ['', 'SKIPPED', 'MANDATORY_NOT_FOUND-Last_Name'],
      ['Again', 'SKIPPED', 'DUPLICATE_DATA-Email'],
      ['Ghost', 'SKIPPED', 'INVALID_DATA-Owner'],
      ['Bad', 'SKIPPED', 'INVALID_DATA-Mobile,Email'],
      ['Nobody', 'ADDED', ''],
    ]);
    for (const r of rows) expect(r.RECORD_ID).toMatch(r.STATUS === 'ADDED' ? DIGITS : /^$/);
    expect(await server.countRecords('Leads')).toBe(before + 3);

    await receiver.waitFor(1);
    expect(receiver.received[0]).toEqual({ method: 'POST', contentType: 'application/json', body: job });
    await receiver.stop();
  });
});

describe('job states', () => {
  it('shows an ADDED job without character_encoding or result, its file holding only status', async () => {
    const idle = await startTestServer({ worker: { enabled: false } });
    try {
      const idleApi = new RawApi(idle, idle.token);
      const fileId = await idleApi.uploadFileId(await zipCsv('leads.csv', leadsCsv(['Last_Name'], manyLeads(2))));
      const jobId = await idleApi.createJobId(insertLeadsBody(fileId, [{ api_name: 'Last_Name', index: 0 }]));
      const res = await idleApi.getJob(jobId);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json');
      expectZohoHeaders(res.headers);
      expect(res.json).toEqual({
        status: 'ADDED',
        resource: [{
          status: 'ADDED', type: 'data', module: { id: expect.stringMatching(DIGITS), api_name: 'Leads' },
          field_mappings: [{ api_name: 'Last_Name', index: 0, format: null, find_by: null, module: null, default_value: null }],
          file: { status: 'ADDED' }, code: 'ADDED',
        }],
        id: jobId,
        created_by: { id: idle.userId, name: idle.userName },
        ignore_empty: false,
        operation: 'insert',
        created_time: expect.stringMatching(ISO_OFFSET),
      });
      const dl = await idleApi.download(`${idle.baseUrl}/v2/crm/${idle.orgId}/bulk-write/${jobId}/${jobId}.zip`);
      expect(dl.status).toBe(400);
    } finally {
      await idle.close();
    }
  });

  it('runs a 25,000-row job to completion, counts growing while INPROGRESS, answering polls all along', async () => {
    const big = await startTestServer({ worker: { batchSize: 250 } });
    try {
      const bigApi = new RawApi(big, big.token);
      const fileId = await bigApi.uploadFileId(await zipCsv('big.csv', leadsCsv(['Last_Name', 'Mobile', 'Owner', 'Email'], manyLeads(25_000, big.userId))));
      const jobId = await bigApi.createJobId(insertLeadsBody(fileId, MAP_LAST_MOBILE_OWNER_EMAIL));
      const seen: { status: string; total: number }[] = [];
      for (;;) {
        const res = await bigApi.getJob(jobId);
        expect(res.status).toBe(200);
        const file = fileOf(res.json);
        seen.push({ status: String(res.json.status), total: Number(file.total_count ?? 0) });
        if (res.json.status === 'COMPLETED') {
          expect(file).toEqual({ status: 'COMPLETED', name: 'big.csv', added_count: 25_000, skipped_count: 0, updated_count: 0, total_count: 25_000 });
          break;
        }
        const inProgress = res.json.status === 'INPROGRESS';
        if (inProgress) {
          expect(res.json.character_encoding).toBe('UTF-8');
          expect((res.json.resource as { status: string; code: string }[])[0]).toMatchObject({ status: 'INPROGRESS', code: 'INPROGRESS' });
          expect(res.json.result).toBeUndefined();
        }
      }
      const midway = seen.filter((s) => s.status === 'INPROGRESS' && s.total > 0 && s.total < 25_000);
      expect(midway.length).toBeGreaterThanOrEqual(3);
      const totals = seen.map((s) => s.total);
      expect(totals).toEqual([...totals].sort((a, b) => a - b));
      expect(await big.countRecords('Leads')).toBe(25_000);
    } finally {
      await big.close();
    }
  });

  it('runs several queued jobs, each exactly once', async () => {
    const ids: string[] = [];
    for (let j = 0; j < 4; j++) {
      const fileId = await uploadLeads(manyLeads(50, server.userId, 10_000 + j * 50));
      ids.push(await api.createJobId(insertLeadsBody(fileId, MAP_LAST_MOBILE_OWNER_EMAIL)));
    }
    for (const id of ids) {
      const job = await api.waitForJob(id);
      expect(fileOf(job)).toMatchObject({ added_count: 50, skipped_count: 0, total_count: 50 });
    }
  });
});

describe('matching existing records', () => {
  it('skips on insert a row whose find_by Email already exists', async () => {
    await runJob(insertLeadsBody(await uploadLeads(manyLeads(2, server.userId, 20_000)), MAP_LAST_MOBILE_OWNER_EMAIL));
    const fileId = await uploadLeads([...manyLeads(2, server.userId, 20_000), ...manyLeads(1, server.userId, 20_002)]);
    const body = insertLeadsBody(fileId, MAP_LAST_MOBILE_OWNER_EMAIL);
    const { job, rows } = await runJob({ ...body, resource: [{ ...body.resource[0], find_by: 'Email' }] });
    expect(rows.map((r) => [r.STATUS, r.ERRORS])).toEqual([['SKIPPED', 'DUPLICATE_DATA-Email'], ['SKIPPED', 'DUPLICATE_DATA-Email'], ['ADDED', '']]);
    expect(fileOf(job)).toMatchObject({ added_count: 1, skipped_count: 2, updated_count: 0, total_count: 3 });
  });

  it('updates by id the records a previous job added, and skips unknown ids with RESOURCE_NOT_FOUND', async () => {
    const first = await runJob(insertLeadsBody(await uploadLeads(manyLeads(3, server.userId, 30_000)), MAP_LAST_MOBILE_OWNER_EMAIL));
    const ids = first.rows.map((r) => r.RECORD_ID as string);
    const csv = `id,Last_Name,Mobile\n${ids[0]},Renamed 0,111\n${ids[1]},Renamed 1,\n4150868000099999999,Nobody,333\n`;
    const fileId = await api.uploadFileId(await zipCsv('update.csv', csv));
    const { job, rows, header } = await runJob({
      operation: 'update',
      ignore_empty: true,
      resource: [{ type: 'data', module: { api_name: 'Leads' }, find_by: 'id', file_id: fileId,
        field_mappings: [{ api_name: 'id', index: 0 }, { api_name: 'Last_Name', index: 1 }, { api_name: 'Mobile', index: 2 }] }],
    });
    expect(header).toEqual(['id', 'Last_Name', 'Mobile', 'STATUS', 'RECORD_ID', 'ERRORS']);
    expect(rows.map((r) => [r.STATUS, r.RECORD_ID, r.ERRORS])).toEqual([
      ['UPDATED', ids[0], ''], ['UPDATED', ids[1], ''], ['SKIPPED', '', 'RESOURCE_NOT_FOUND-id'],
    ]);
    expect(fileOf(job)).toMatchObject({ added_count: 0, updated_count: 2, skipped_count: 1, total_count: 3 });
    const module = (await server.bw.store.listModules(server.orgId)).find((m) => m.apiName === 'Leads');
    const r1 = await server.bw.store.getRecord(module?.id ?? '', ids[1] as string);
    expect(r1?.values).toMatchObject({ Last_Name: 'Renamed 1', Mobile: '+15550030001', Email: 'lead30001@example.com' });
  });

  it('upserts by Email: matches are UPDATED, the rest ADDED, and ignore_empty keeps old values', async () => {
    const first = await runJob(insertLeadsBody(await uploadLeads(manyLeads(4, server.userId, 40_000)), MAP_LAST_MOBILE_OWNER_EMAIL));
    const rows: LeadRow[] = [
      { Last_Name: 'Upd 0', Mobile: '', Email: 'lead40000@example.com' },
      { Last_Name: 'Upd 1', Mobile: '999', Email: 'LEAD40001@example.com' },
      { Last_Name: 'New 0', Mobile: '1', Email: 'new40000@example.com' },
      { Last_Name: 'New 1', Mobile: '2', Email: 'new40001@example.com' },
    ];
    const fileId = await uploadLeads(rows);
    const { job, rows: out } = await runJob({
      operation: 'upsert',
      ignore_empty: true,
      resource: [{ type: 'data', module: { api_name: 'Leads' }, find_by: 'Email', file_id: fileId, field_mappings: MAP_LAST_MOBILE_OWNER_EMAIL }],
    });
    expect(out.map((r) => r.STATUS)).toEqual(['UPDATED', 'UPDATED', 'ADDED', 'ADDED']);
    expect(out[0]?.RECORD_ID).toBe(first.rows[0]?.RECORD_ID);
    expect(out[1]?.RECORD_ID).toBe(first.rows[1]?.RECORD_ID);
    expect(fileOf(job)).toMatchObject({ added_count: 2, updated_count: 2, skipped_count: 0, total_count: 4 });
    const module = (await server.bw.store.listModules(server.orgId)).find((m) => m.apiName === 'Leads');
    const kept = await server.bw.store.getRecord(module?.id ?? '', out[0]?.RECORD_ID as string);
    expect(kept?.values).toMatchObject({ Last_Name: 'Upd 0', Mobile: '+15550040000', Owner: server.userId });
  });

  it('clears cells left empty when ignore_empty is false', async () => {
    const first = await runJob(insertLeadsBody(await uploadLeads(manyLeads(1, server.userId, 50_000)), MAP_LAST_MOBILE_OWNER_EMAIL));
    const fileId = await uploadLeads([{ Last_Name: 'Cleared', Mobile: '', Email: 'lead50000@example.com' }]);
    await runJob({
      operation: 'upsert',
      resource: [{ type: 'data', module: { api_name: 'Leads' }, find_by: 'Email', file_id: fileId,
        field_mappings: [{ api_name: 'Last_Name', index: 0 }, { api_name: 'Mobile', index: 1 }, { api_name: 'Email', index: 3 }] }],
    });
    const module = (await server.bw.store.listModules(server.orgId)).find((m) => m.apiName === 'Leads');
    const rec = await server.bw.store.getRecord(module?.id ?? '', first.rows[0]?.RECORD_ID as string);
    expect(rec?.values).toMatchObject({ Last_Name: 'Cleared', Mobile: null });
  });

  it('maps the CSV header to fields when field_mappings is absent, and echoes the mappings it used', async () => {
    const fileId = await api.uploadFileId(await zipCsv('auto.csv', 'Last_Name;Email;Phone\nAuto;auto1@example.com;+1 555 0001\n'));
    const { job, rows } = await runJob({ operation: 'insert', resource: [{ type: 'data', module: { api_name: 'Leads' }, file_id: fileId }] });
    expect((job.resource as { field_mappings: unknown[] }[])[0]?.field_mappings).toEqual([
      { api_name: 'Last_Name', index: 0, format: null, find_by: null, module: null, default_value: null },
      { api_name: 'Email', index: 1, format: null, find_by: null, module: null, default_value: null },
      { api_name: 'Phone', index: 2, format: null, find_by: null, module: null, default_value: null },
    ]);
    expect(rows.map((r) => r.STATUS)).toEqual(['ADDED']);
  });
});

describe('callbacks', () => {
  /** Runs an insert of `leads` whose callback goes to `receiver`; returns the final job once the receiver has taken a delivery. */
  async function jobCalledBack(receiver: CallbackReceiver, leads: readonly LeadRow[], through = api): Promise<Record<string, unknown>> {
    const url = await receiver.start();
    const fileId = await through.uploadFileId(await zipCsv('leads.csv', leadsCsv(['Last_Name', 'Mobile', 'Owner', 'Email'], leads)));
    const jobId = await through.createJobId({ ...insertLeadsBody(fileId, MAP_LAST_MOBILE_OWNER_EMAIL), callback: { url, method: 'post' } });
    const job = await through.waitForJob(jobId);
    await receiver.waitFor(1);
    return job;
  }

  it('retries a failing callback endpoint and still delivers the final job object', async () => {
    const receiver = new CallbackReceiver(2);
    const job = await jobCalledBack(receiver, manyLeads(2, server.userId, 60_000));
    expect(receiver.attempts).toBe(3);
    expect(receiver.received[0]?.body).toEqual(job);
    await receiver.stop();
  });

  it('does not follow a redirect: the 302 is a failed attempt, and the retry posts the job again', async () => {
    const receiver = new CallbackReceiver(1, 'redirect');
    const job = await jobCalledBack(receiver, manyLeads(1, server.userId, 62_000));
    // A followed 302 would have come back as a GET without the body.
    expect(receiver.methods).toEqual(['POST', 'POST']);
    expect(receiver.received[0]?.body).toEqual(job);
    await receiver.stop();
  });

  it('counts a 2xx status as delivered though the endpoint cuts its answer off', async () => {
    const receiver = new CallbackReceiver(1, 'cut');
    const job = await jobCalledBack(receiver, manyLeads(1, server.userId, 64_000));
    await server.bw.processing?.drainCallbacks();
    expect(receiver.attempts).toBe(1);
    expect(receiver.received[0]?.body).toEqual(job);
    await receiver.stop();
  });

  it('gives up on an attempt the endpoint does not answer within the timeout, and delivers on the retry', async () => {
    const quick = await startTestServer({ callbacks: { timeoutMs: 300 } });
    const receiver = new CallbackReceiver(1, 'hang');
    try {
      const job = await jobCalledBack(receiver, manyLeads(1, quick.userId, 63_000), new RawApi(quick, quick.token));
      expect(receiver.attempts).toBe(2);
      expect(receiver.received[0]?.body).toEqual(job);
    } finally {
      await receiver.stop();
      await quick.close();
    }
  });

  it('completes the job when the callback endpoint never answers', async () => {
    const fileId = await uploadLeads(manyLeads(1, server.userId, 61_000));
    const jobId = await api.createJobId({ ...insertLeadsBody(fileId, MAP_LAST_MOBILE_OWNER_EMAIL), callback: { url: 'http://127.0.0.1:9/nothing', method: 'post' } });
    expect((await api.waitForJob(jobId)).status).toBe('COMPLETED');
    await server.bw.processing?.drainCallbacks();
    expect((await api.getJob(jobId)).status).toBe(200);
  });
});
