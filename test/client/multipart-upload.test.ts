import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BulkwrightClient, ZohoApiError, ZohoBulkClient } from '@bulkwright/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { multipartFile } from '../../client/src/multipart.js';
import { leadsCsv } from '../support/builders.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { zipCsv } from '../support/zip.js';

interface Received {
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

/** A server that keeps what each upload sent and answers as Zoho does. */
async function recorder(): Promise<{ base: string; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ status: 'success', code: 'FILE_UPLOAD_SUCCESS', message: 'file uploaded.', details: { file_id: '1', created_time: 't' } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, received, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** The whole body a one-file upload must send, for the boundary it announced. */
function expectedBody(r: Received, fileName: string, content: Buffer): Buffer {
  const boundary = /^multipart\/form-data; boundary=(\S+)$/.exec(String(r.headers['content-type']))?.[1];
  expect(boundary).toMatch(/^-*bulkwright[0-9a-f]{24}$/);
  return Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\nContent-Type: application/zip\r\n\r\n`),
    content,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
}

let work: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'bulkwright-multipart-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('uploadFile sends one multipart part with its length', () => {
  it('streams a file from disk, a Blob and bytes byte for byte, with Content-Length and no chunking', async () => {
    const rec = await recorder();
    try {
      const client = new ZohoBulkClient({ accessToken: 't', apiDomain: rec.base, uploadDomain: rec.base, accountsDomain: rec.base });
      // Larger than one 1 MB read, and not a multiple of it.
      const content = Buffer.alloc(2_500_123);
      for (let i = 0; i < content.length; i++) content[i] = (i * 7919) % 251;
      const file = path.join(work, 'big.zip');
      await writeFile(file, content);
      await client.uploadFile(file);
      await client.uploadFile(new Blob([content]), { fileName: 'blob.zip' });
      await client.uploadFile(new Uint8Array(content), { fileName: 'bytes.zip' });
      expect(rec.received).toHaveLength(3);
      for (const [r, name] of rec.received.map((r, i) => [r, ['big.zip', 'blob.zip', 'bytes.zip'][i]] as const)) {
        expect(r.headers['transfer-encoding']).toBeUndefined();
        expect(Number(r.headers['content-length'])).toBe(r.body.length);
        expect(r.headers.feature).toBe('bulk-write');
        expect(r.body.equals(expectedBody(r, name as string, content))).toBe(true);
      }
    } finally {
      await rec.close();
    }
  });

  it('escapes quotes and line breaks in the file name as FormData does', async () => {
    const rec = await recorder();
    try {
      const client = new ZohoBulkClient({ accessToken: 't', apiDomain: rec.base, uploadDomain: rec.base, accountsDomain: rec.base });
      await client.uploadFile(Buffer.from('zip'), { fileName: 'a "quoted"\r\nname.zip' });
      const r = rec.received[0] as Received;
      expect(r.body.equals(expectedBody(r, 'a %22quoted%22%0D%0Aname.zip', Buffer.from('zip')))).toBe(true);
    } finally {
      await rec.close();
    }
  });

  it('fails rather than send a body of another length than it announced, when the file changes on the way', async () => {
    const file = path.join(work, 'growing.zip');
    await writeFile(file, Buffer.alloc(10_000, 1));
    const part = await multipartFile(file, 'growing.zip');
    expect(part.contentLength).toBeGreaterThan(10_000);
    await appendFile(file, Buffer.alloc(5, 2));
    const reader = (part.body as ReadableStream<Uint8Array>).getReader();
    const read = async (): Promise<void> => {
      for (;;) if ((await reader.read()).done) return;
    };
    await expect(read()).rejects.toThrow(/growing\.zip changed while it was uploaded \(10000 bytes expected, 10005 read\)/);
  });

  it('reports a missing file as such, not as a network failure, and sends nothing', async () => {
    const rec = await recorder();
    try {
      const client = new ZohoBulkClient({ accessToken: 't', apiDomain: rec.base, uploadDomain: rec.base, accountsDomain: rec.base });
      const failure = await client.uploadFile(path.join(work, 'absent.zip')).catch((e: unknown) => e);
      expect(failure).not.toBeInstanceOf(ZohoApiError);
      expect(failure).toMatchObject({ code: 'ENOENT', message: expect.stringMatching(/absent\.zip/) as unknown as string });
      expect(rec.received).toHaveLength(0);
    } finally {
      await rec.close();
    }
  });
});

describe('uploadFile against Bulkwright', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it.runIf(existsSync('/proc/self/fd'))('leaves no file open when the upload is refused before its body is read', async () => {
    const client = new BulkwrightClient({ apiDomain: server.baseUrl, accessToken: 'not-a-token', orgId: server.orgId });
    const file = path.join(work, 'refused.zip');
    // Larger than the socket's buffers take: the server never reads it, so the client's send stalls.
    await writeFile(file, randomBytes(16 * 1024 * 1024));
    for (let i = 0; i < 3; i++) await expect(client.uploadFile(file)).rejects.toMatchObject({ status: 401, code: 'INVALID_TOKEN' });
    const openOnFile = (): number =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`) === file;
        } catch {
          return false;
        }
      }).length;
    // A read under way when the answer came ends on its own; nothing stays open after it.
    await expect.poll(openOnFile, { timeout: 3_000, interval: 50 }).toBe(0);
  });

  it('is accepted from a path and imported whole', async () => {
    const client = new BulkwrightClient({ apiDomain: server.baseUrl, accessToken: server.token, orgId: server.orgId });
    const rows = Array.from({ length: 3000 }, (_, i) => ({ Last_Name: `Streamed ${i}`, Email: `streamed${i}@zylker.com` }));
    const file = path.join(work, 'streamed.zip');
    await writeFile(file, await zipCsv('streamed.csv', leadsCsv(['Last_Name', 'Email'], rows)));
    const uploaded = await client.uploadFile(file);
    expect(uploaded).toMatchObject({ status: 'success', code: 'FILE_UPLOAD_SUCCESS' });
    const created = await client.createJob({ operation: 'insert', resource: [{ type: 'data', module: { api_name: 'Leads' }, file_id: uploaded.details.file_id }] });
    const job = await client.waitForJob(created.details.id, { pollIntervalMs: 50 });
    expect(job.resource[0]?.file).toMatchObject({ status: 'COMPLETED', name: 'streamed.csv', added_count: 3000, total_count: 3000 });
  });
});
