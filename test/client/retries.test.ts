import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ZohoApiError, ZohoBulkClient } from '@bulkwright/client';
import { afterEach, describe, expect, it } from 'vitest';

interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

let server: Server | null = null;

/** A server that answers requests from a script, one answer per request, and records what it was asked. */
async function scripted(answers: Answer[]): Promise<{ base: string; requests: { method: string; url: string; auth: string }[] }> {
  const requests: { method: string; url: string; auth: string }[] = [];
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', auth: String(req.headers.authorization) });
      const answer = answers.shift() ?? { status: 500, body: { code: 'SCRIPT_EXHAUSTED', details: {}, message: 'no more answers', status: 'error' } };
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

afterEach(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = null;
});

const JOB = {
  status: 'ADDED', resource: [], id: '4150868000005350003', created_by: { id: '4150868000000225013', name: 'P' },
  ignore_empty: false, operation: 'insert', created_time: '2021-05-11T12:38:29+05:30',
};
const error = (code: string, message: string, details: Record<string, unknown> = {}) => ({ code, details, message, status: 'error' });

function client(base: string, delays: number[]): ZohoBulkClient {
  return new ZohoBulkClient({ apiDomain: base, accessToken: 'tok', sleep: async (ms) => void delays.push(ms) });
}

describe('ZohoBulkClient retries', () => {
  it('retries a GET on 429 and 5xx, waiting as Retry-After says, else backing off exponentially (1 s × 2^attempt)', async () => {
    const { base, requests } = await scripted([
      { status: 429, body: error('TOO_MANY_REQUESTS', 'Many requests fired'), headers: { 'retry-after': '7' } },
      { status: 503, body: error('INTERNAL_ERROR', 'down') },
      { status: 502, body: 'bad gateway' },
      { status: 200, body: JOB },
    ]);
    const delays: number[] = [];
    const job = await client(base, delays).getJob(JOB.id);
    expect(job.id).toBe(JOB.id);
    expect(delays).toEqual([7000, 2000, 4000]);
    expect(requests.map((r) => [r.method, r.url, r.auth])).toEqual(Array(4).fill(['GET', `/crm/bulk/v2.1/write/${JOB.id}`, 'Zoho-oauthtoken tok']));
  });

  it('reads Retry-After as an HTTP date too', async () => {
    const at = new Date(Date.now() + 30_000).toUTCString();
    const { base } = await scripted([{ status: 503, body: {}, headers: { 'retry-after': at } }, { status: 200, body: JOB }]);
    const delays: number[] = [];
    await client(base, delays).getJob(JOB.id);
    expect(delays[0]).toBeGreaterThan(25_000);
    expect(delays[0]).toBeLessThanOrEqual(30_000);
  });

  it('gives up after three retries with the last error', async () => {
    const { base, requests } = await scripted(Array(5).fill({ status: 500, body: error('INTERNAL_ERROR', 'Internal server error occurred.') }));
    const failure = await client(base, []).getJob(JOB.id).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ZohoApiError);
    expect(requests).toHaveLength(4);
  });

  it('never repeats a POST after a 5xx (it may have created the job), but does after a 429', async () => {
    const { base, requests } = await scripted([
      { status: 429, body: error('TOO_MANY_REQUESTS', 'Many requests fired') },
      { status: 500, body: error('INTERNAL_ERROR', 'Internal server error occurred.') },
    ]);
    const failure = await client(base, []).createJob({ operation: 'insert', resource: [] }).catch((e: unknown) => e);
    expect(requests.map((r) => r.method)).toEqual(['POST', 'POST']);
    expect(failure).toMatchObject({ status: 500, code: 'INTERNAL_ERROR' });
  });

  it('turns an error body into a ZohoApiError with status, code, message and details, even under HTTP 200', async () => {
    const { base } = await scripted([
      { status: 400, body: error('INVALID_DATA', 'invalid data', { api_name: 'operation', json_path: '$.operation' }) },
      { status: 200, body: error('INVALID_FILE_FORMAT', 'invalid file format. only zip format is supported', { created_time: 't' }) },
    ]);
    const c = client(base, []);
    const bad = await c.createJob({ operation: 'insert', resource: [] }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ZohoApiError);
    expect(bad).toMatchObject({ status: 400, code: 'INVALID_DATA', message: 'invalid data', details: { api_name: 'operation', json_path: '$.operation' }, url: `${base}/crm/bulk/v2.1/write` });
    const upload = await c.uploadFile(new Uint8Array([1, 2, 3])).catch((e: unknown) => e);
    expect(upload).toMatchObject({ status: 200, code: 'INVALID_FILE_FORMAT', details: { created_time: 't' } });
  });
});
