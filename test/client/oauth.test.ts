import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BulkwrightClient, exchangeGrantCode, ZohoApiError, type FetchFn } from '@bulkwright/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leadsCsv } from '../support/builders.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let work: string;

beforeAll(async () => {
  server = await startTestServer();
  work = await mkdtemp(path.join(tmpdir(), 'bulkwright-oauth-'));
});

afterAll(async () => {
  await server.close();
  await rm(work, { recursive: true, force: true });
});

/** A self client and the refresh token its grant code is traded for at the server's token endpoint. */
async function refreshCredentials(): Promise<{ clientId: string; clientSecret: string; refreshToken: string }> {
  const self = await server.bw.oauth.createSelfClient({ orgId: server.orgId });
  const granted = await exchangeGrantCode({ accountsDomain: server.baseUrl, clientId: self.client_id, clientSecret: self.client_secret, code: self.code });
  expect(granted).toEqual({
    access_token: expect.stringMatching(/^1000\./), refresh_token: expect.stringMatching(/^1000\./), api_domain: server.baseUrl, token_type: 'Bearer', expires_in: 3600,
  });
  return { clientId: self.client_id, clientSecret: self.client_secret, refreshToken: granted.refresh_token as string };
}

/** fetch that logs `METHOD path` of every request. */
function loggingFetch(log: string[]): FetchFn {
  return (input, init) => {
    log.push(`${init?.method ?? 'GET'} ${new URL(String(input)).pathname}`);
    return fetch(input, init);
  };
}

async function completedJobId(): Promise<string> {
  const file = path.join(work, 'one.csv');
  await writeFile(file, leadsCsv(['Last_Name'], [{ Last_Name: 'Refresh' }]));
  const client = new BulkwrightClient({ apiDomain: server.baseUrl, accessToken: server.token });
  const summary = await client.importCsv(file, { module: 'Leads', pollIntervalMs: 50 });
  return summary.jobs[0]?.id as string;
}

describe('the refresh-token flow against POST /oauth/v2/token', () => {
  it('fetches one access token on first use and uses it for every call', async () => {
    const log: string[] = [];
    const client = new BulkwrightClient({ apiDomain: server.baseUrl, ...(await refreshCredentials()), fetch: loggingFetch(log) });
    const jobId = await completedJobId();
    expect((await client.getJob(jobId)).status).toBe('COMPLETED');
    expect((await client.getJob(jobId)).status).toBe('COMPLETED');
    expect(log).toEqual(['POST /oauth/v2/token', `GET /crm/bulk/v2.1/write/${jobId}`, `GET /crm/bulk/v2.1/write/${jobId}`]);
  });

  it('renews a token the server rejects, once, and repeats the call', async () => {
    const stale = (await server.bw.tokens.create({ orgId: server.orgId, expiresInSeconds: null, label: 'stale' })).token;
    await server.bw.tokens.revoke(stale);
    const log: string[] = [];
    const client = new BulkwrightClient({ apiDomain: server.baseUrl, accessToken: stale, ...(await refreshCredentials()), fetch: loggingFetch(log) });
    const jobId = await completedJobId();
    expect((await client.getJob(jobId)).id).toBe(jobId);
    expect(log).toEqual([`GET /crm/bulk/v2.1/write/${jobId}`, 'POST /oauth/v2/token', `GET /crm/bulk/v2.1/write/${jobId}`]);
  });

  it("reports a refused refresh token with the accounts server's error code", async () => {
    const creds = await refreshCredentials();
    const client = new BulkwrightClient({ apiDomain: server.baseUrl, ...creds, refreshToken: '1000.unknown.refresh' });
    const failure = await client.getJob('4150868000005350003').catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ZohoApiError);
    expect(failure).toMatchObject({ status: 200, code: 'invalid_code', message: `the accounts server ${server.baseUrl} refused the refresh token (invalid_code)` });
  });

  it('refuses a grant code used twice', async () => {
    const self = await server.bw.oauth.createSelfClient({ orgId: server.orgId });
    const input = { accountsDomain: server.baseUrl, clientId: self.client_id, clientSecret: self.client_secret, code: self.code };
    await exchangeGrantCode(input);
    expect(await exchangeGrantCode(input).catch((e: unknown) => e)).toMatchObject({ code: 'invalid_code' });
  });
});

// ---- Zoho's official TypeScript SDK, driven loosely: it ships no types usable from ESM ----
type Obj = Record<string, unknown>;
type Ctor = new (...args: unknown[]) => unknown;
const sdk = createRequire(import.meta.url)('@zohocrm/typescript-sdk-2.1') as Obj;
const cls = (dotted: string): Ctor => dotted.split('.').reduce<unknown>((o, k) => (o as Obj)[k], sdk) as Ctor;
const make = (dotted: string, ...args: unknown[]): unknown => new (cls(dotted))(...args);
function call(target: unknown, method: string, ...args: unknown[]): unknown {
  return ((target as Obj)[method] as (...a: unknown[]) => unknown).apply(target, args);
}

describe("Zoho's official SDK refresh-token flow", () => {
  it('gets an access token from the token endpoint and reads a job with it', async () => {
    const creds = await refreshCredentials();
    const jobId = await completedJobId();
    const dir = path.join(work, 'sdk');
    const base = server.baseUrl;
    const token = call(call(call(call(make('OAuthBuilder'), 'clientId', creds.clientId), 'clientSecret', creds.clientSecret), 'refreshToken', creds.refreshToken), 'build');
    let builder = await (make('InitializeBuilder') as Promise<unknown>);
    const steps: [string, unknown][] = [
      ['user', make('UserSignature', 'sdk-refresh@example.com')],
      ['environment', make('Environment', base, `${base}/oauth/v2/token`, base, 'bulkwright')],
      ['token', token],
      ['store', make('FileStore', path.join(work, 'sdk_tokens.txt'))],
      ['SDKConfig', call(call(make('SDKConfigBuilder'), 'timeout', 15_000), 'build')],
      ['resourcePath', work],
      ['logger', call(call(call(make('LogBuilder'), 'level', (sdk.Levels as Obj).INFO), 'filePath', `${dir}.log`), 'build')],
    ];
    for (const [step, value] of steps) builder = call(builder, step, value);
    await call(builder, 'initialize');

    const response = await (call(make('BulkWrite.BulkWriteOperations'), 'getBulkWriteJobDetails', BigInt(jobId)) as Promise<unknown>);
    expect(call(response, 'getStatusCode')).toBe(200);
    const job = call(response, 'getObject');
    expect(job).toBeInstanceOf(cls('BulkWrite.BulkWriteResponse'));
    expect(String(call(job, 'getId'))).toBe(jobId);
    expect(call(job, 'getStatus')).toBe('COMPLETED');
    // The SDK kept the refreshed token in its store, and the server issued it to this client.
    const stored = await readFile(path.join(work, 'sdk_tokens.txt'), 'utf8');
    expect(stored).toContain(creds.refreshToken);
    const issued = (await server.bw.store.listTokens(server.orgId)).filter((t) => t.label === `oauth:${creds.clientId}`);
    expect(issued).toHaveLength(2); // the grant exchange's, then the SDK's refresh
  });
});
