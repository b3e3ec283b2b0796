/**
 * The whole bulk-write flow driven by Zoho's official SDKs, unmodified (@zohocrm/typescript-sdk-2.1 1.1.0 and
 * @zohocrm/nodejs-sdk-2.1 2.0.0): upload → create → poll → download, read through the SDKs' model classes.
 * Wire facts: shared/reference/official-sdk-wire.md; the answers' shape: shared/CONTRACT.md and
 * shared/reference/seed-job-details.txt.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseResultCsv, RawApi } from '../support/api-client.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { unzipEntries, zipCsv } from '../support/zip.js';
import {
  createSdkDriver,
  SDK_NAMES,
  type PlainJob,
  type SdkDriver,
  type SdkFieldMapping,
  type SdkJobRequest,
  type SdkName,
} from '../support/zoho-sdks.js';

// ---------------------------------------------------------------------------------------------
// A small CSV builder for Leads rows
// ---------------------------------------------------------------------------------------------

const LEAD_COLUMNS = ['Last_Name', 'Mobile', 'Owner', 'Email', 'Company'] as const;
type LeadColumn = (typeof LEAD_COLUMNS)[number];
type LeadRow = Record<LeadColumn, string>;

/** The SDK sends mappings in the order given; this one follows the seed job (Owner first, out of index order). */
const LEAD_MAPPINGS: SdkFieldMapping[] = [
  { api_name: 'Owner', index: 2 },
  { api_name: 'Last_Name', index: 0 },
  { api_name: 'Mobile', index: 1 },
  { api_name: 'Email', index: 3 },
  { api_name: 'Company', index: 4 },
];

/** Result columns: the first three mapped columns in index order, then Zoho's three result columns. */
const RESULT_HEADER = ['Last_Name', 'Mobile', 'Owner', 'STATUS', 'RECORD_ID', 'ERRORS'];

const pad = (n: number): string => String(n).padStart(2, '0');

function lead(n: number, owner: string, overrides: Partial<LeadRow> = {}): LeadRow {
  return {
    Last_Name: `Boyle ${pad(n)}`,
    Mobile: `98450000${pad(n)}`,
    Owner: owner,
    Email: `lead${pad(n)}@example.com`,
    Company: `Zylker ${pad(n)}`,
    ...overrides,
  };
}

function csvCell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

function leadsCsv(rows: readonly LeadRow[]): string {
  const lines = [LEAD_COLUMNS.join(','), ...rows.map((r) => LEAD_COLUMNS.map((c) => csvCell(r[c])).join(','))];
  return `${lines.join('\r\n')}\r\n`;
}

interface ExpectedRow {
  readonly row: LeadRow;
  readonly status: 'ADDED' | 'UPDATED' | 'SKIPPED';
  readonly errors: string;
}

const RECORD_ID = /^[1-9][0-9]{14,18}$/;

/** The result row a Leads CSV row should produce; ADDED rows get a fresh record id, not known in advance. */
function resultRow(e: ExpectedRow, recordId?: string): Record<string, unknown> {
  return {
    Last_Name: e.row.Last_Name,
    Mobile: e.row.Mobile,
    Owner: e.row.Owner,
    STATUS: e.status,
    RECORD_ID: e.status === 'SKIPPED' ? '' : recordId ?? expect.stringMatching(RECORD_ID),
    ERRORS: e.errors,
  };
}

function tally(rows: readonly Record<string, string>[]): Record<string, number> {
  const out: Record<string, number> = { ADDED: 0, UPDATED: 0, SKIPPED: 0 };
  for (const r of rows) out[r.STATUS ?? ''] = (out[r.STATUS ?? ''] ?? 0) + 1;
  return out;
}

// ---------------------------------------------------------------------------------------------
// A tiny callback receiver on 127.0.0.1
// ---------------------------------------------------------------------------------------------

interface CallbackHit {
  readonly method: string;
  readonly path: string;
  readonly contentType: string | undefined;
  readonly body: unknown;
}

interface CallbackReceiver {
  readonly url: string;
  readonly hits: CallbackHit[];
  /** Resolves with the first hit on `pathname`, waiting for it if needed. */
  hitOn(pathname: string, timeoutMs?: number): Promise<CallbackHit>;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function startCallbackReceiver(): Promise<CallbackReceiver> {
  const hits: CallbackHit[] = [];
  const server: Server = createServer((req, res) => {
    void readBody(req).then((text) => {
      let body: unknown = text;
      try {
        body = JSON.parse(text) as unknown;
      } catch {
        // kept as text: the assertion will show what arrived
      }
      hits.push({ method: req.method ?? '', path: req.url ?? '', contentType: req.headers['content-type'], body });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    async hitOn(pathname, timeoutMs = 15_000) {
      for (const until = Date.now() + timeoutMs; ; await sleep(20)) {
        const hit = hits.find((h) => h.path === pathname);
        if (hit) return hit;
        if (Date.now() > until) throw new Error(`no callback on ${pathname} within ${timeoutMs} ms (got ${JSON.stringify(hits)})`);
      }
    },
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}

// ---------------------------------------------------------------------------------------------
// One job, end to end, through an SDK
// ---------------------------------------------------------------------------------------------

type CreateAnswer = Awaited<ReturnType<SdkDriver['createJob']>>;
type UploadAnswer = Awaited<ReturnType<SdkDriver['uploadZip']>>;
type DownloadAnswer = Awaited<ReturnType<SdkDriver['downloadResult']>>;

interface SdkRun {
  readonly upload: UploadAnswer;
  readonly created: CreateAnswer;
  readonly jobId: string;
  /** Job statuses seen while polling through the SDK, in order, repeats collapsed. */
  readonly statusesSeen: string[];
  /** The completed job as the SDK's BulkWriteResponse reads it. */
  readonly job: PlainJob;
  readonly download: DownloadAnswer;
  readonly zipEntries: Map<string, Buffer>;
  readonly result: { header: string[]; rows: Record<string, string>[] };
}

/** `details.file_id` of an upload answer, as the SDK's SuccessResponse reads it. */
function uploadedFileId(upload: UploadAnswer): unknown {
  const d = upload.body.details;
  return d !== null && typeof d === 'object' ? (d as Record<string, unknown>).file_id : undefined;
}

async function uploadThroughSdk(sdk: SdkDriver, workDir: string, csvName: string, csv: string): Promise<UploadAnswer> {
  const zipPath = path.join(workDir, `${path.basename(csvName, '.csv')}-${Date.now()}.zip`);
  await writeFile(zipPath, await zipCsv(csvName, csv));
  return sdk.uploadZip(zipPath);
}

async function runThroughSdk(
  sdk: SdkDriver,
  workDir: string,
  csvName: string,
  csv: string,
  request: Omit<SdkJobRequest, 'fileId'>,
): Promise<SdkRun> {
  const upload = await uploadThroughSdk(sdk, workDir, csvName, csv);
  const fileId = uploadedFileId(upload);
  if (upload.kind !== 'success' || typeof fileId !== 'string') throw new Error(`upload failed: ${JSON.stringify(upload)}`);

  const created = await sdk.createJob({ ...request, fileId });
  const jobId = created.details.id;
  if (created.kind !== 'success' || typeof jobId !== 'string') throw new Error(`create failed: ${JSON.stringify(created)}`);

  const statusesSeen: string[] = [];
  let job: PlainJob | undefined;
  for (const until = Date.now() + 30_000; ; await sleep(25)) {
    const answer = await sdk.getJob(jobId);
    if (answer.kind !== 'job' || !answer.job) throw new Error(`job details failed: ${JSON.stringify(answer)}`);
    const status = answer.job.status ?? '(none)';
    if (statusesSeen[statusesSeen.length - 1] !== status) statusesSeen.push(status);
    if (status === 'COMPLETED' || status === 'FAILED') {
      job = answer.job;
      break;
    }
    if (Date.now() > until) throw new Error(`job ${jobId} still ${status} after 30 s`);
  }

  const downloadUrl = job.result?.download_url;
  if (downloadUrl === undefined) throw new Error(`completed job ${jobId} has no download_url: ${JSON.stringify(job)}`);
  const download = await sdk.downloadResult(downloadUrl);
  const zipEntries = await unzipEntries(download.bytes);
  const [entry] = [...zipEntries.values()];
  const result = parseResultCsv(entry?.toString('utf8') ?? '');
  return { upload, created, jobId, statusesSeen, job, download, zipEntries, result };
}

/** Every status in order of the job lifecycle, so a poll sequence can be checked to move only forward. */
const LIFECYCLE = ['ADDED', 'INPROGRESS', 'COMPLETED'];

async function moduleId(server: TestServer, apiName: string): Promise<string> {
  const m = (await server.bw.store.listModules(server.orgId)).find((x) => x.apiName === apiName);
  if (!m) throw new Error(`no module ${apiName}`);
  return m.id;
}

async function storedValues(server: TestServer, recordId: string, fields: readonly string[]): Promise<Record<string, unknown> | null> {
  const record = await server.bw.store.getRecord(await moduleId(server, 'Leads'), recordId);
  if (!record) return null;
  return Object.fromEntries(fields.map((f) => [f, record.values[f] ?? null]));
}

/**
 * Closes the server, cutting connections that are still mid-request after a grace period. Known server
 * issue (reported, not asserted here): the INVALID_TOKEN upload is answered before its multipart body is
 * read and the connection is kept alive; got stops sending the rest of the body, so that socket stays
 * "mid-request", Node never counts it idle, and Fastify's close() waits for it (up to requestTimeout).
 */
async function closeServer(server: TestServer, graceMs = 3_000): Promise<void> {
  const timer = setTimeout(() => {
    console.warn(`server.close() still waiting after ${graceMs} ms on a connection left mid-request; closing it`);
    server.bw.app.server.closeAllConnections();
  }, graceMs);
  try {
    await server.close();
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------
// The specification
// ---------------------------------------------------------------------------------------------

describe.each(SDK_NAMES)('Bulk Write v2.1 driven by the official %s', (sdkName: SdkName) => {
  let server: TestServer;
  let raw: RawApi;
  let sdk: SdkDriver;
  let receiver: CallbackReceiver;
  let workDir: string;

  beforeAll(async () => {
    server = await startTestServer();
    raw = new RawApi(server, server.token);
    receiver = await startCallbackReceiver();
    workDir = await mkdtemp(path.join(tmpdir(), `bulkwright-${sdkName}-`));
    sdk = await createSdkDriver(sdkName, { baseUrl: server.baseUrl, token: server.token, orgId: server.orgId, workDir });
  });

  afterAll(async () => {
    await receiver?.close();
    if (server) await closeServer(server);
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  // The insert job, run once and shared by the specs below (each spec still runs on its own).
  const INSERT_CSV_NAME = 'leads-insert.csv';
  const CALLBACK_PATH = `/bulk-write-callback/${sdkName}`;
  let insertRows: ExpectedRow[] = [];
  let insertRun: Promise<SdkRun> | undefined;
  const runInsert = (): Promise<SdkRun> => {
    insertRun ??= (async () => {
      const owner = server.userId;
      insertRows = [
        { row: lead(1, owner), status: 'ADDED', errors: '' },
        { row: lead(2, owner), status: 'ADDED', errors: '' },
        { row: lead(3, owner, { Company: 'Boyle, Patricia & "Sons"' }), status: 'ADDED', errors: '' },
        { row: lead(4, owner), status: 'ADDED', errors: '' },
        { row: lead(5, owner, { Last_Name: '' }), status: 'SKIPPED', errors: 'MANDATORY_NOT_FOUND-Last_Name' },
        { row: lead(6, owner), status: 'ADDED', errors: '' },
        { row: lead(7, owner, { Email: lead(2, owner).Email }), status: 'SKIPPED', errors: 'DUPLICATE_DATA-Email' },
        { row: lead(8, owner), status: 'ADDED', errors: '' },
        { row: lead(9, owner), status: 'ADDED', errors: '' },
        { row: lead(10, owner), status: 'ADDED', errors: '' },
        { row: lead(11, owner), status: 'ADDED', errors: '' },
        { row: lead(12, owner), status: 'ADDED', errors: '' },
      ];
      return runThroughSdk(sdk, workDir, INSERT_CSV_NAME, leadsCsv(insertRows.map((e) => e.row)), {
        operation: 'insert',
        module: 'Leads',
        ignoreEmpty: true,
        callback: { url: `${receiver.url}${CALLBACK_PATH}`, method: 'post' },
        fieldMappings: LEAD_MAPPINGS,
      });
    })();
    return insertRun;
  };
  /** Record id of each email the insert job added, from its result CSV. */
  const insertedIdByEmail = (run: SdkRun): Map<string, string> =>
    new Map(
      run.result.rows.flatMap((r, k) => {
        const email = insertRows[k]?.row.Email;
        return r.STATUS === 'ADDED' && email !== undefined && r.RECORD_ID !== undefined ? [[email, r.RECORD_ID] as const] : [];
      }),
    );

  describe('an insert into Leads with a callback', () => {
    it('uploads the zip and answers create with 201 SUCCESS, a digit-string job id and the admin as created_by', async () => {
      const run = await runInsert();
      expect(run.upload).toEqual({
        status: 200,
        kind: 'success',
        body: {
          status: 'success',
          code: 'FILE_UPLOAD_SUCCESS',
          message: 'file uploaded.',
          details: { file_id: expect.stringMatching(RECORD_ID), created_time: expect.any(String) },
        },
      });
      expect(run.created).toEqual({
        status: 201,
        kind: 'success',
        code: 'SUCCESS',
        message: 'success',
        details: { id: expect.stringMatching(RECORD_ID), created_by: { id: server.userId, name: server.userName } },
      });
    });

    it('is polled through the SDK until COMPLETED, moving only forward through ADDED, INPROGRESS, COMPLETED', async () => {
      const run = await runInsert();
      expect(run.statusesSeen[run.statusesSeen.length - 1]).toEqual('COMPLETED');
      const order = run.statusesSeen.map((s) => LIFECYCLE.indexOf(s));
      expect(order.every((i) => i >= 0)).toEqual(true);
      expect(order).toEqual([...order].sort((a, b) => a - b));
    });

    it('reads the completed job through the SDK model exactly as the seed sample describes it', async () => {
      const run = await runInsert();
      expect(run.job).toEqual({
        status: 'COMPLETED',
        character_encoding: 'UTF-8',
        resource: [
          {
            status: 'COMPLETED',
            type: 'data',
            module: { id: await moduleId(server, 'Leads'), api_name: 'Leads' },
            // The SDK reads null as absent, so each mapping shows only api_name and index.
            field_mappings: LEAD_MAPPINGS.map((m) => ({ api_name: m.api_name, index: m.index })),
            file: { status: 'COMPLETED', name: INSERT_CSV_NAME, added_count: 10, skipped_count: 2, updated_count: 0, total_count: 12 },
            code: 'COMPLETED',
          },
        ],
        id: run.jobId,
        callback: { url: `${receiver.url}${CALLBACK_PATH}`, method: 'post' },
        result: { download_url: `${server.baseUrl}/v2/crm/${server.orgId}/bulk-write/${run.jobId}/${run.jobId}.zip` },
        created_by: { id: server.userId, name: server.userName },
        operation: 'insert',
        created_time: expect.any(String),
      });
      expect(run.job.resource?.[0]?.module?.id).toMatch(RECORD_ID);
      const createdTime = new Date(run.job.created_time ?? '');
      expect(Number.isNaN(createdTime.getTime())).toEqual(false);

      const rawJob = await raw.getJob(run.jobId);
      expect(createdTime.getTime()).toEqual(Date.parse(String(rawJob.json.created_time)));
    });

    it('answers raw job details with exactly the seed sample keys, in the seed order', async () => {
      const run = await runInsert();
      const rawJob = await raw.getJob(run.jobId);
      expect(rawJob.status).toEqual(200);
      expect(Object.keys(rawJob.json)).toEqual([
        'status', 'character_encoding', 'resource', 'id', 'callback', 'result', 'created_by', 'ignore_empty', 'operation', 'created_time',
      ]);
      const resources = rawJob.json.resource as Record<string, unknown>[];
      expect(resources.map((r) => Object.keys(r))).toEqual([['status', 'type', 'module', 'field_mappings', 'file', 'code']]);
      const mappings = resources[0]?.field_mappings as Record<string, unknown>[];
      expect(mappings).toEqual(
        LEAD_MAPPINGS.map((m) => ({ api_name: m.api_name, index: m.index, format: null, find_by: null, module: null, default_value: null })),
      );
      expect(mappings.map((m) => Object.keys(m))).toEqual(
        LEAD_MAPPINGS.map(() => ['api_name', 'index', 'format', 'find_by', 'module', 'default_value']),
      );
      expect(rawJob.json.ignore_empty).toEqual(true);
      expect(rawJob.json.created_time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/);
    });

    it('POSTs the final job details, as JSON, to the callback URL', async () => {
      const run = await runInsert();
      const hit = await receiver.hitOn(CALLBACK_PATH);
      const rawJob = await raw.getJob(run.jobId);
      expect({ method: hit.method, contentType: hit.contentType, body: hit.body }).toEqual({
        method: 'POST',
        contentType: 'application/json',
        body: rawJob.json,
      });
      expect(receiver.hits.filter((h) => h.path === CALLBACK_PATH)).toHaveLength(1);
    });

    it('downloads <jobId>.zip through the SDK holding one result CSV with the exact per-row STATUS and ERRORS', async () => {
      const run = await runInsert();
      expect({ status: run.download.status, fileName: run.download.fileName }).toEqual({ status: 200, fileName: `${run.jobId}.zip` });
      expect([...run.zipEntries.keys()]).toEqual([`Leads-${INSERT_CSV_NAME}`]);
      expect(run.result.header).toEqual(RESULT_HEADER);
      expect(run.result.rows).toEqual(insertRows.map((e) => resultRow(e)));
      const ids = run.result.rows.filter((r) => r.STATUS === 'ADDED').map((r) => r.RECORD_ID);
      expect(new Set(ids).size).toEqual(10);
    });

    it("tallies the result CSV's STATUS column to the job's added, updated and skipped counts", async () => {
      const run = await runInsert();
      const file = run.job.resource?.[0]?.file;
      expect(tally(run.result.rows)).toEqual({
        ADDED: file?.added_count,
        UPDATED: file?.updated_count,
        SKIPPED: file?.skipped_count,
      });
      expect(run.result.rows).toHaveLength(file?.total_count ?? -1);
    });

    it('stores exactly the added records, each under its RECORD_ID with the CSV values', async () => {
      const run = await runInsert();
      expect(await server.countRecords('Leads')).toEqual(run.job.resource?.[0]?.file?.added_count);
      const stored = await Promise.all(
        run.result.rows.flatMap((r) => (r.STATUS === 'ADDED' && r.RECORD_ID ? [storedValues(server, r.RECORD_ID, LEAD_COLUMNS)] : [])),
      );
      expect(stored).toEqual(insertRows.filter((e) => e.status === 'ADDED').map((e) => ({ ...e.row })));
    });
  });

  describe('an upsert into Leads found by Email', () => {
    it('updates the rows whose Email matches a record, keeping its RECORD_ID, and adds the rest', async () => {
      const first = await runInsert();
      const idByEmail = insertedIdByEmail(first);
      const owner = server.userId;
      const before = await server.countRecords('Leads');
      const rows: ExpectedRow[] = [
        { row: lead(1, owner, { Last_Name: 'Boyle 01 (upserted)', Mobile: '9845111101' }), status: 'UPDATED', errors: '' },
        { row: lead(13, owner), status: 'ADDED', errors: '' },
        // ignore_empty: the empty Company leaves the stored one as it was.
        { row: lead(3, owner, { Mobile: '9845111103', Company: '' }), status: 'UPDATED', errors: '' },
        { row: lead(14, owner), status: 'ADDED', errors: '' },
        { row: lead(4, owner, { Mobile: '9845111104' }), status: 'UPDATED', errors: '' },
        { row: lead(15, owner), status: 'ADDED', errors: '' },
        { row: lead(6, owner, { Mobile: '9845111106' }), status: 'UPDATED', errors: '' },
        { row: lead(16, owner), status: 'ADDED', errors: '' },
      ];
      const run = await runThroughSdk(sdk, workDir, 'leads-upsert.csv', leadsCsv(rows.map((e) => e.row)), {
        operation: 'upsert',
        module: 'Leads',
        findBy: 'Email',
        ignoreEmpty: true,
        fieldMappings: LEAD_MAPPINGS,
      });

      expect(run.created.kind).toEqual('success');
      expect(run.job.status).toEqual('COMPLETED');
      expect(run.job.operation).toEqual('upsert');
      expect(run.job.resource?.[0]?.file).toEqual({
        status: 'COMPLETED', name: 'leads-upsert.csv', added_count: 4, skipped_count: 0, updated_count: 4, total_count: 8,
      });

      expect(run.result.header).toEqual(RESULT_HEADER);
      expect(run.result.rows).toEqual(
        rows.map((e) => resultRow(e, e.status === 'UPDATED' ? idByEmail.get(e.row.Email) ?? '(not inserted)' : undefined)),
      );
      const file = run.job.resource?.[0]?.file;
      expect(tally(run.result.rows)).toEqual({ ADDED: file?.added_count, UPDATED: file?.updated_count, SKIPPED: file?.skipped_count });

      expect(await server.countRecords('Leads')).toEqual(before + 4);
      const stored = await Promise.all(run.result.rows.map((r) => storedValues(server, r.RECORD_ID ?? '', LEAD_COLUMNS)));
      expect(stored).toEqual(
        rows.map((e) => ({ ...e.row, Company: e.row.Company === '' ? 'Boyle, Patricia & "Sons"' : e.row.Company })),
      );

      const rawJob = await raw.getJob(run.jobId);
      expect(rawJob.json.ignore_empty).toEqual(true);
      expect(rawJob.json.operation).toEqual('upsert');
      expect(Object.keys(rawJob.json)).toEqual([
        'status', 'character_encoding', 'resource', 'id', 'result', 'created_by', 'ignore_empty', 'operation', 'created_time',
      ]);
    });
  });

  describe('error answers, read by the SDK as APIException', () => {
    it('refuses a job for an unknown module with 400 MODULE_NOT_AVAILABLE', async () => {
      const upload = await uploadThroughSdk(sdk, workDir, 'unknown-module.csv', leadsCsv([lead(40, server.userId)]));
      const fileId = uploadedFileId(upload);
      expect(typeof fileId).toEqual('string');
      const created = await sdk.createJob({ operation: 'insert', module: 'Leadz', fileId: String(fileId), fieldMappings: LEAD_MAPPINGS });
      expect(created).toEqual({
        status: 400,
        kind: 'error',
        code: 'MODULE_NOT_AVAILABLE',
        message: "Requested module 'Leadz' is not available.",
        details: { api_name: 'module', json_path: '$.resource[0].module' },
      });
    });

    it('answers the details of an unknown 19-digit job id with 400 RESOURCE_NOT_FOUND', async () => {
      // 9000000… is above every id prefix the server hands out, so no job can have it.
      expect(await sdk.getJob('9000000000000000001')).toEqual({
        status: 400,
        kind: 'error',
        error: { code: 'RESOURCE_NOT_FOUND', message: "The requested resource doesn't exist.", details: {} },
      });
    });

    it('answers upload and job details made with an unknown token with 401 INVALID_TOKEN', async () => {
      const run = await runInsert();
      const badDir = path.join(workDir, 'bad-token');
      const bad = await createSdkDriver(sdkName, { baseUrl: server.baseUrl, token: '1000.deadbeefdeadbeefdeadbeefdeadbeef.0123456789abcdef0123456789abcdef', orgId: server.orgId, workDir: badDir });
      const zipPath = path.join(workDir, 'bad-token.zip');
      await writeFile(zipPath, await zipCsv('bad-token.csv', leadsCsv([lead(41, server.userId)])));

      expect(await bad.uploadZip(zipPath)).toEqual({
        status: 401,
        kind: 'error',
        body: { status: 'error', code: 'INVALID_TOKEN', message: 'invalid oauth token', details: {} },
      });
      expect(await bad.getJob(run.jobId)).toEqual({
        status: 401,
        kind: 'error',
        error: { code: 'INVALID_TOKEN', message: 'invalid oauth token', details: {} },
      });
    });
  });
});
