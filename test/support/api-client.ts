import { parse } from 'csv-parse/sync';
import { expect } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestServer } from './server.js';

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly json: Record<string, unknown>;
}

async function answer(res: Response): Promise<HttpAnswer> {
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON; tests look at text
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** Raw-HTTP calls as a user's own code would make them (fetch + FormData), no project client. */
export class RawApi {
  constructor(
    readonly server: Pick<TestServer, 'baseUrl' | 'orgId'>,
    readonly token: string,
  ) {}

  auth(): Record<string, string> {
    return { authorization: `Zoho-oauthtoken ${this.token}` };
  }

  async upload(zip: Buffer, opts: { name?: string; headers?: Record<string, string>; field?: string } = {}): Promise<HttpAnswer> {
    const form = new FormData();
    form.append(opts.field ?? 'file', new Blob([zip], { type: 'application/zip' }), opts.name ?? 'leads.zip');
    const headers = { ...this.auth(), feature: 'bulk-write', 'x-crm-org': this.server.orgId, ...opts.headers };
    return answer(await fetch(`${this.server.baseUrl}/crm/v2.1/upload`, { method: 'POST', headers, body: form }));
  }

  async uploadFileId(zip: Buffer, name?: string): Promise<string> {
    const res = await this.upload(zip, { name });
    const details = res.json.details as { file_id?: string } | undefined;
    if (res.status !== 200 || !details?.file_id) throw new Error(`upload failed: ${res.status} ${res.text}`);
    return details.file_id;
  }

  async createJob(body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<HttpAnswer> {
    const payload = typeof body === 'string' ? body : JSON.stringify(body);
    return answer(await fetch(`${this.server.baseUrl}/crm/bulk/v2.1/write`, { method: 'POST', headers: { ...this.auth(), ...headers }, body: payload }));
  }

  async createJobId(body: unknown): Promise<string> {
    const res = await this.createJob(body);
    const details = res.json.details as { id?: string } | undefined;
    if (res.status !== 201 || !details?.id) throw new Error(`create job failed: ${res.status} ${res.text}`);
    return details.id;
  }

  async getJob(jobId: string): Promise<HttpAnswer> {
    return answer(await fetch(`${this.server.baseUrl}/crm/bulk/v2.1/write/${jobId}`, { headers: this.auth() }));
  }

  async waitForJob(jobId: string, timeoutMs = 60_000): Promise<Record<string, unknown>> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const res = await this.getJob(jobId);
      if (res.status !== 200) throw new Error(`job details failed: ${res.status} ${res.text}`);
      if (res.json.status === 'COMPLETED' || res.json.status === 'FAILED') return res.json;
      if (Date.now() > until) throw new Error(`job ${jobId} still ${String(res.json.status)} after ${timeoutMs} ms`);
      await sleep(25);
    }
  }

  async download(url: string): Promise<{ status: number; headers: Headers; body: Buffer }> {
    const res = await fetch(url, { headers: this.auth() });
    return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
  }
}

/** Parses a result CSV into its header and rows keyed by column name. */
export function parseResultCsv(text: string): { header: string[]; rows: Record<string, string>[] } {
  const records = parse(text, { relax_column_count: true }) as string[][];
  const header = records[0] ?? [];
  const rows = records.slice(1).map((cells) => Object.fromEntries(header.map((h, i) => [h, cells[i] ?? ''])));
  return { header, rows };
}

/** The headers Zoho's CRM front-ends put on every answer, success or error (seed-job-details.txt). */
export function expectZohoHeaders(headers: Headers): void {
  expect(Object.fromEntries(['cache-control', 'pragma', 'expires', 'x-content-type-options', 'x-frame-options', 'x-xss-protection', 'referrer-policy'].map((h) => [h, headers.get(h)]))).toEqual({
    'cache-control': 'no-cache',
    pragma: 'no-cache',
    expires: 'Thu, 01 Jan 1970 00:00:00 GMT',
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'SAMEORIGIN',
    'x-xss-protection': '1; mode=block',
    'referrer-policy': 'strict-origin',
  });
}
