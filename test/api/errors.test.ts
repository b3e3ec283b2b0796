import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SetupService } from '../../src/services/setup-service.js';
import { expectZohoHeaders, RawApi, type HttpAnswer } from '../support/api-client.js';
import { insertLeadsBody, leadsCsv, manyLeads, stateOf } from '../support/builders.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { zipCsv, zipEntries } from '../support/zip.js';

const ERROR_TYPE = 'application/json;charset=utf-8';
const OFFSET_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+05:30$/;

let server: TestServer;
let api: RawApi;
let fileId: string;
let completedJobId: string;

function expectError(res: HttpAnswer, status: number, code: string, message: string | RegExp, details?: Record<string, unknown>): void {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe(ERROR_TYPE);
  expectZohoHeaders(res.headers);
  expect(Object.keys(res.json)).toEqual(['code', 'details', 'message', 'status']);
  expect(res.json.code).toBe(code);
  expect(res.json.status).toBe('error');
  if (typeof message === 'string') expect(res.json.message).toBe(message);
  else expect(res.json.message).toMatch(message);
  if (details) expect(res.json.details).toEqual(details);
}

/** Runs a refused request and checks it left no job, file or record behind, and the server still answers. */
async function refused(call: () => Promise<HttpAnswer>): Promise<HttpAnswer> {
  const before = await stateOf(server);
  const res = await call();
  expect(await stateOf(server)).toEqual(before);
  expect((await api.getJob(completedJobId)).status).toBe(200);
  return res;
}

beforeAll(async () => {
  server = await startTestServer();
  api = new RawApi(server, server.token);
  fileId = await api.uploadFileId(await zipCsv('leads.csv', leadsCsv(['Last_Name', 'Mobile', 'Email'], manyLeads(3))));
  completedJobId = await api.createJobId(insertLeadsBody(fileId, [{ api_name: 'Last_Name', index: 0 }, { api_name: 'Mobile', index: 1 }]));
  await api.waitForJob(completedJobId);
});

afterAll(async () => {
  await server.close();
});

describe('routing', () => {
  it('answers an unknown path with INVALID_URL_PATTERN, exactly as the seed shows', async () => {
    const res = await refused(async () => {
      const r = await fetch(`${server.baseUrl}/crm/bulk/v2.1/writ/4150868000005350003`, { headers: api.auth() });
      return { status: r.status, headers: r.headers, text: '', json: (await r.json()) as Record<string, unknown> };
    });
    expectError(res, 404, 'INVALID_URL_PATTERN', 'Please check if the URL trying to access is a correct one', {});
  });

  it('answers a path that cannot be decoded with INVALID_URL_PATTERN and Zoho\'s headers, not a framework error', async () => {
    const res = await refused(
      () =>
        new Promise<HttpAnswer>((resolve, reject) => {
          const url = new URL(server.baseUrl);
          const req = request({ host: url.hostname, port: url.port, path: '/crm/bulk/v2.1/write/%zz', headers: api.auth() }, (r) => {
            let text = '';
            r.setEncoding('utf8');
            r.on('data', (c: string) => (text += c));
            r.on('end', () => {
              const headers = new Headers(Object.entries(r.headers).map(([k, v]) => [k, String(v)] as [string, string]));
              resolve({ status: r.statusCode ?? 0, headers, text, json: JSON.parse(text) as Record<string, unknown> });
            });
          });
          req.on('error', reject);
          req.end();
        }),
    );
    expectError(res, 404, 'INVALID_URL_PATTERN', 'Please check if the URL trying to access is a correct one', {});
  });

  it.each([
    ['PUT', '/crm/bulk/v2.1/write/4150868000005350003'],
    ['DELETE', '/crm/bulk/v2.1/write/4150868000005350003'],
    ['GET', '/crm/bulk/v2.1/write'],
    ['GET', '/crm/v2.1/upload'],
    ['POST', '/v2/crm/1/bulk-write/2/2.zip'],
  ])('answers %s %s with INVALID_REQUEST_METHOD', async (method, path) => {
    const res = await refused(async () => {
      const r = await fetch(`${server.baseUrl}${path}`, { method, headers: api.auth() });
      return { status: r.status, headers: r.headers, text: '', json: (await r.json()) as Record<string, unknown> };
    });
    expectError(res, 400, 'INVALID_REQUEST_METHOD', 'The http request method type is not a valid one', {});
  });

  it('answers a path outside the API with INVALID_URL_PATTERN too', async () => {
    const r = await fetch(`${server.baseUrl}/nothing/here`, { method: 'PATCH' });
    expectError({ status: r.status, headers: r.headers, text: '', json: (await r.json()) as Record<string, unknown> }, 404, 'INVALID_URL_PATTERN',
      'Please check if the URL trying to access is a correct one');
  });
});

describe('authentication and scopes', () => {
  async function detailsWith(authorization: string | null): Promise<HttpAnswer> {
    const headers: Record<string, string> = authorization === null ? {} : { authorization };
    const r = await fetch(`${server.baseUrl}/crm/bulk/v2.1/write/${completedJobId}`, { headers });
    return { status: r.status, headers: r.headers, text: '', json: (await r.json()) as Record<string, unknown> };
  }

  it('answers a missing Authorization header with AUTHENTICATION_FAILURE', async () => {
    expectError(await detailsWith(null), 401, 'AUTHENTICATION_FAILURE', 'Authentication failed', {});
  });

  it('answers a malformed Authorization header with AUTHENTICATION_FAILURE', async () => {
    expectError(await detailsWith('Basic dXNlcjpwYXNz'), 401, 'AUTHENTICATION_FAILURE', 'Authentication failed', {});
  });

  it('accepts the Bearer scheme that Postman sends', async () => {
    expect((await detailsWith(`Bearer ${server.token}`)).status).toBe(200);
  });

  it('answers an unknown token with INVALID_TOKEN', async () => {
    expectError(await detailsWith('Zoho-oauthtoken 1000.abc.def'), 401, 'INVALID_TOKEN', 'invalid oauth token', {});
  });

  it('answers a revoked token with INVALID_TOKEN', async () => {
    const { token } = await server.bw.tokens.create({ orgId: server.orgId });
    expect((await detailsWith(`Zoho-oauthtoken ${token}`)).status).toBe(200);
    expect(await server.bw.tokens.revoke(token)).toBe(true);
    expectError(await detailsWith(`Zoho-oauthtoken ${token}`), 401, 'INVALID_TOKEN', 'invalid oauth token', {});
  });

  it("gives job details to an expiring token until it expires, then INVALID_TOKEN, though they were just polled", async () => {
    const { token } = await server.bw.tokens.create({ orgId: server.orgId, expiresInSeconds: 1 });
    const first = await fetch(`${server.baseUrl}/crm/bulk/v2.1/write/${completedJobId}`, { headers: { authorization: `Zoho-oauthtoken ${token}` } });
    const again = await fetch(`${server.baseUrl}/crm/bulk/v2.1/write/${completedJobId}`, { headers: { authorization: `Zoho-oauthtoken ${token}` } });
    expect([first.status, again.status]).toEqual([200, 200]);
    expect(await again.text()).toBe(await first.text());
    // The answer given again carries the token's reset time, as the first did.
    expect(again.headers.get('x-accesstoken-reset')).toBe(first.headers.get('x-accesstoken-reset'));
    expect(first.headers.get('x-accesstoken-reset')).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/);
    await new Promise((r) => setTimeout(r, 1100));
    expectError(await detailsWith(`Zoho-oauthtoken ${token}`), 401, 'INVALID_TOKEN', 'invalid oauth token', {});
  });

  it('answers an expired token with INVALID_TOKEN', async () => {
    const { token } = await server.bw.tokens.create({ orgId: server.orgId, expiresInSeconds: 1 });
    await new Promise((r) => setTimeout(r, 1100));
    expectError(await detailsWith(`Zoho-oauthtoken ${token}`), 401, 'INVALID_TOKEN', 'invalid oauth token', {});
  });

  it('answers a token without a bulk scope with OAUTH_SCOPE_MISMATCH on job details', async () => {
    const { token } = await server.bw.tokens.create({ orgId: server.orgId, scopes: ['ZohoFiles.files.ALL'] });
    expectError(await detailsWith(`Zoho-oauthtoken ${token}`), 401, 'OAUTH_SCOPE_MISMATCH', 'invalid oauth scope to access this URL', {});
  });

  it('answers an upload by a token without ZohoFiles.files.ALL with OAUTH_SCOPE_MISMATCH', async () => {
    const { token } = await server.bw.tokens.create({ orgId: server.orgId, scopes: ['ZohoCRM.bulk.READ'] });
    const zip = await zipCsv('leads.csv', leadsCsv(['Last_Name'], manyLeads(1)));
    const res = await refused(() => new RawApi(server, token).upload(zip));
    expectError(res, 401, 'OAUTH_SCOPE_MISMATCH', 'invalid oauth scope to access this URL', {});
  });

  it('answers create-job by a token without the module scope with OAUTH_SCOPE_MISMATCH', async () => {
    const { token } = await server.bw.tokens.create({ orgId: server.orgId, scopes: ['ZohoCRM.bulk.ALL', 'ZohoCRM.modules.contacts.ALL'] });
    const res = await refused(() => new RawApi(server, token).createJob(insertLeadsBody(fileId, [{ api_name: 'Last_Name', index: 0 }])));
    expectError(res, 401, 'OAUTH_SCOPE_MISMATCH', 'invalid oauth scope to access this URL', {});
  });

  it('lets a token scoped to one module create jobs for that module', async () => {
    const { token } = await server.bw.tokens.create({ orgId: server.orgId, scopes: ['ZohoCRM.bulk.CREATE', 'ZohoCRM.modules.leads.CREATE'] });
    const res = await new RawApi(server, token).createJob(insertLeadsBody(fileId, [{ api_name: 'Last_Name', index: 0 }]));
    expect(res.status).toBe(201);
    // Let it finish: the tests after this one compare record counts before and after a request.
    await api.waitForJob((res.json.details as { id: string }).id);
  });
});

describe('job details and download of jobs that are not there', () => {
  it.each([
    ['an 18-digit id', '415086800000535000'],
    ['an unknown 19-digit id', '4150868000005350003'],
    ['a non-numeric id', 'job_abc'],
  ])('answers %s with RESOURCE_NOT_FOUND (400)', async (_label, id) => {
    expectError(await refused(() => api.getJob(id)), 400, 'RESOURCE_NOT_FOUND', "The requested resource doesn't exist.", {});
  });

  it("hides another org's job, result and file", async () => {
    const other = await new SetupService(server.bw.store, server.bw.tokens).createOrg({
      orgName: 'Other', adminName: 'Other Admin', adminEmail: 'other@example.com', timeZone: 'UTC',
    });
    const otherApi = new RawApi({ baseUrl: server.baseUrl, orgId: other.org.id }, other.token);
    const otherFile = await otherApi.uploadFileId(await zipCsv('leads.csv', leadsCsv(['Last_Name'], manyLeads(2))));
    const otherJob = await otherApi.createJobId(insertLeadsBody(otherFile, [{ api_name: 'Last_Name', index: 0 }]));
    const done = await otherApi.waitForJob(otherJob);

    expectError(await api.getJob(otherJob), 400, 'RESOURCE_NOT_FOUND', "The requested resource doesn't exist.", {});
    const url = (done.result as { download_url: string }).download_url;
    const dl = await api.download(url);
    expect(dl.status).toBe(400);
    expect(JSON.parse(dl.body.toString('utf8'))).toEqual({ code: 'RESOURCE_NOT_FOUND', details: {}, message: "The requested resource doesn't exist.", status: 'error' });
    const res = await refused(() => api.createJob(insertLeadsBody(otherFile, [{ api_name: 'Last_Name', index: 0 }])));
    expectError(res, 400, 'INVALID_FILE_ID', 'improper file id', { api_name: 'file_id', json_path: '$.resource[0].file_id' });
  });

  it('answers a download of a result name other than <job>.zip with RESOURCE_NOT_FOUND', async () => {
    const res = await api.download(`${server.baseUrl}/v2/crm/${server.orgId}/bulk-write/${completedJobId}/other.zip`);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe(ERROR_TYPE);
  });
});

describe('upload', () => {
  it('answers a file that is not a zip with INVALID_FILE_FORMAT and HTTP 200, as Zoho does', async () => {
    const res = await refused(() => api.upload(Buffer.from('Last_Name\nSmith\n'), { name: 'leads.zip' }));
    expectError(res, 200, 'INVALID_FILE_FORMAT', 'invalid file format. only zip format is supported');
    expect(Object.keys(res.json.details as object)).toEqual(['created_time']);
    expect((res.json.details as { created_time: string }).created_time).toMatch(OFFSET_TIME);
  });

  it('refuses an empty zip', async () => {
    const res = await refused(async () => api.upload(await zipEntries([])));
    expectError(res, 400, 'FILE_NOT_SUPPORTED', 'the zip file is empty; it must hold one CSV file');
  });

  it('refuses a zip holding two CSV files, naming both', async () => {
    const zip = await zipEntries([{ name: 'a.csv', content: 'Last_Name\nA\n' }, { name: 'b.csv', content: 'Last_Name\nB\n' }]);
    const res = await refused(() => api.upload(zip));
    expectError(res, 400, 'FILE_NOT_SUPPORTED', 'the zip file holds 2 CSV files (a.csv, b.csv); only one CSV per zip is supported');
    expect((res.json.details as { file_names: string[] }).file_names).toEqual(['a.csv', 'b.csv']);
  });

  it('refuses a zip whose only file is not a CSV', async () => {
    const res = await refused(async () => api.upload(await zipEntries([{ name: 'notes.txt', content: 'hello' }])));
    expectError(res, 400, 'FILE_NOT_SUPPORTED', 'the zip file holds no CSV file (found notes.txt)');
  });

  it('refuses a CSV with only a header row', async () => {
    const res = await refused(async () => api.upload(await zipCsv('leads.csv', 'Last_Name,Email\r\n')));
    expectError(res, 400, 'FILE_NOT_SUPPORTED', 'leads.csv has a header row but no data rows');
  });

  it('refuses an empty CSV', async () => {
    const res = await refused(async () => api.upload(await zipCsv('leads.csv', '')));
    expectError(res, 400, 'FILE_NOT_SUPPORTED', 'leads.csv is empty; it needs a header row and at least one data row');
  });

  it('refuses a damaged zip', async () => {
    const zip = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(200, 7)]);
    const res = await refused(() => api.upload(zip));
    expectError(res, 400, 'FILE_NOT_SUPPORTED', /^the zip file could not be read: /);
  });

  it('refuses an upload without the feature: bulk-write header', async () => {
    const zip = await zipCsv('leads.csv', leadsCsv(['Last_Name'], manyLeads(1)));
    const res = await refused(() => api.upload(zip, { headers: { feature: 'bulk-read' } }));
    expectError(res, 200, 'NOT_SUPPORTED_FEATURE', 'Feature is not supported');
  });

  it('refuses an X-CRM-ORG that is not the org of the token', async () => {
    const zip = await zipCsv('leads.csv', leadsCsv(['Last_Name'], manyLeads(1)));
    const res = await refused(() => api.upload(zip, { headers: { 'x-crm-org': '1234567890123456' } }));
    expectError(res, 400, 'INVALID_DATA', 'the X-CRM-ORG header 1234567890123456 is not the org of this access token', { api_name: 'X-CRM-ORG' });
  });

  it('refuses a multipart body without a part named file', async () => {
    const zip = await zipCsv('leads.csv', leadsCsv(['Last_Name'], manyLeads(1)));
    const res = await refused(() => api.upload(zip, { field: 'attachment' }));
    expectError(res, 400, 'MANDATORY_NOT_FOUND', 'required key file is not found in request body.', { api_name: 'file', json_path: '$.file' });
  });

  it('refuses a file over the size limit with FILE_TOO_LARGE (413) and keeps nothing', async () => {
    const small = await startTestServer({ limits: { maxZipBytes: 2048 } });
    try {
      const smallApi = new RawApi(small, small.token);
      const big = await zipCsv('leads.csv', `Last_Name\n${randomBytes(4096).toString('hex')}\n`);
      expect(big.length).toBeGreaterThan(2048);
      const before = await stateOf(small);
      const res = await smallApi.upload(big);
      expectError(res, 413, 'FILE_TOO_LARGE', 'File size too large to process', { max_size: 2048 });
      expect(await stateOf(small)).toEqual(before);
      expect((await smallApi.upload(await zipCsv('leads.csv', leadsCsv(['Last_Name'], manyLeads(2))))).status).toBe(200);
    } finally {
      await small.close();
    }
  });
});

describe('create job validation', () => {
  const base = () => insertLeadsBody(fileId, [{ api_name: 'Last_Name', index: 0 }, { api_name: 'Mobile', index: 1 }]);
  const resource = (patch: Record<string, unknown>) => ({ ...base(), resource: [{ ...base().resource[0], ...patch }] });

  it.each<[string, () => unknown, number, string, string, Record<string, unknown>]>([
    ['bad JSON', () => '{"operation": "insert",', 400, 'INVALID_DATA', 'the request body is not valid JSON: ', { json_path: '$' }],
    ['an empty body', () => '', 400, 'INVALID_DATA', 'the request body is empty; a JSON object is expected', { json_path: '$' }],
    ['a JSON array', () => [], 400, 'INVALID_DATA', 'the request body must be a JSON object', { json_path: '$' }],
    ['no operation', () => ({ ...base(), operation: undefined }), 400, 'MANDATORY_NOT_FOUND',
      'required key operation is not found in request body.', { api_name: 'operation', json_path: '$.operation' }],
    ['an unknown operation', () => ({ ...base(), operation: 'delete' }), 400, 'INVALID_DATA',
      'invalid value "delete" for operation; expected one of insert, update, upsert', { api_name: 'operation', json_path: '$.operation' }],
    ['no resource', () => ({ operation: 'insert' }), 400, 'MANDATORY_NOT_FOUND', 'required key resource is not found in request body.',
      { api_name: 'resource', json_path: '$.resource' }],
    ['an unknown module', () => resource({ module: { api_name: 'Leadz' } }), 400, 'MODULE_NOT_AVAILABLE',
      "Requested module 'Leadz' is not available.", { api_name: 'module', json_path: '$.resource[0].module' }],
    ['a type other than data', () => resource({ type: 'meta' }), 400, 'INVALID_DATA', 'invalid value "meta" for type; the only type is data',
      { api_name: 'type', json_path: '$.resource[0].type' }],
    ['an unknown field', () => resource({ field_mappings: [{ api_name: 'Last_Nam', index: 0 }] }), 400, 'INVALID_FIELD',
      'invalid mapping. invalid api_name Last_Nam.', { api_name: 'Last_Nam', json_path: '$.resource[0].field_mappings[0].api_name' }],
    ['a negative index', () => resource({ field_mappings: [{ api_name: 'Last_Name', index: 0 }, { api_name: 'Mobile', index: -1 }] }), 400,
      'COLUMN_INDEX_NOT_FOUND', 'column index -1 of field Mobile is negative', { api_name: 'index', json_path: '$.resource[0].field_mappings[1].index' }],
    ['an index past the last column', () => resource({ field_mappings: [{ api_name: 'Last_Name', index: 0 }, { api_name: 'Mobile', index: 3 }] }),
      400, 'COLUMN_INDEX_NOT_FOUND', 'column index 3 of field Mobile does not exist: leads.csv has 3 columns (0 to 2)',
      { api_name: 'index', json_path: '$.resource[0].field_mappings[1].index' }],
    ['a mapping without index or default_value', () => resource({ field_mappings: [{ api_name: 'Last_Name', index: 0 }, { api_name: 'Mobile' }] }),
      400, 'MANDATORY_NOT_FOUND', 'required key index for field Mobile is not found in request body.',
      { api_name: 'index', json_path: '$.resource[0].field_mappings[1].index' }],
    ['a field mapped twice', () => resource({ field_mappings: [{ api_name: 'Last_Name', index: 0 }, { api_name: 'Last_Name', index: 1 }] }),
      400, 'DUPLICATE_DATA', 'field Last_Name is mapped more than once (entries 0 and 1)',
      { api_name: 'Last_Name', json_path: '$.resource[0].field_mappings[1].api_name' }],
    ['update without find_by', () => ({ ...base(), operation: 'update' }), 400, 'MANDATORY_NOT_FOUND', 'Required key find_by is not available',
      { api_name: 'find_by', json_path: '$.resource[0].find_by' }],
    ['upsert without find_by', () => ({ ...base(), operation: 'upsert' }), 400, 'MANDATORY_NOT_FOUND', 'Required key find_by is not available',
      { api_name: 'find_by', json_path: '$.resource[0].find_by' }],
    ['a find_by that is not unique', () => ({ ...resource({ find_by: 'Mobile' }), operation: 'upsert' }), 400, 'INVALID_DATA',
      'find_by Mobile is not a unique field of Leads; use id or Email', { api_name: 'Mobile', json_path: '$.resource[0].find_by' }],
    ['a find_by field that is not mapped', () => ({ ...resource({ find_by: 'Email' }), operation: 'upsert' }), 400, 'MANDATORY_NOT_FOUND',
      'the find_by field Email is not mapped to a column of leads.csv', { api_name: 'Email', json_path: '$.resource[0].field_mappings' }],
    ['an unknown file_id', () => resource({ file_id: '4150868000005364001' }), 400, 'INVALID_FILE_ID', 'improper file id',
      { api_name: 'file_id', json_path: '$.resource[0].file_id' }],
    ['a mandatory field left unmapped', () => resource({ field_mappings: [{ api_name: 'Mobile', index: 1 }] }), 400,
      'MANDATORY_FIELDS_NOT_MAPPED', 'All mandatory fields are not mapped for the layout: Last_Name',
      { api_name: 'Last_Name', json_path: '$.resource[0].field_mappings' }],
    ['more than 200 mappings', () => resource({ field_mappings: Array.from({ length: 201 }, (_, i) => ({ api_name: `F${i}`, index: 0 })) }),
      400, 'HEADER_LIMIT_EXCEEDED', '201 fields are mapped; at most 200 are allowed',
      { api_name: 'field_mappings', json_path: '$.resource[0].field_mappings' }],
    ['a format on a text field', () => resource({ field_mappings: [{ api_name: 'Last_Name', index: 0, format: 'yyyy/MM/dd' }] }), 400,
      'INVALID_FORMAT', 'format applies only to date and date-time fields; Last_Name is not one',
      { api_name: 'format', json_path: '$.resource[0].field_mappings[0].format' }],
    ['a callback URL that is not http(s)', () => ({ ...base(), callback: { url: 'ftp://example.com/x', method: 'post' } }), 400,
      'INVALID_CALLBACK_URL', "Invalid URL 'ftp://example.com/x' for callback.", { api_name: 'url', json_path: '$.callback.url' }],
    ['a callback method other than post', () => ({ ...base(), callback: { url: 'https://example.com/x', method: 'get' } }), 400,
      'INVALID_CALLBACK_METHOD', 'Invalid request method get for callback.', { supported_callback_methods: ['post'], json_path: '$.callback.method' }],
    ['ignore_empty that is not a boolean', () => ({ ...base(), ignore_empty: 'yes' }), 400, 'INVALID_DATA', 'ignore_empty must be true or false',
      { api_name: 'ignore_empty', json_path: '$.ignore_empty' }],
    ['an unknown character_encoding', () => ({ ...base(), character_encoding: 'EBCDIC-42' }), 400, 'INVALID_DATA',
      'character_encoding EBCDIC-42 is not supported', { api_name: 'character_encoding', json_path: '$.character_encoding' }],
  ])('refuses %s', async (_label, body, status, code, message, details) => {
    const res = await refused(() => api.createJob(body()));
    expectError(res, status, code, message.endsWith(': ') ? new RegExp(`^${message}`) : message, details);
  });

  it('parses the body as JSON whatever its Content-Type, as the docs curl sends none', async () => {
    const res = await api.createJob(JSON.stringify(base()), { 'content-type': 'application/x-www-form-urlencoded' });
    expect(res.status).toBe(201);
  });
});
