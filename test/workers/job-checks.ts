import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import { buildConfig } from '../../src/config.js';
import type { Store } from '../../src/ports/store.js';
import { openStores } from '../../src/server.js';
import type { RawApi } from '../support/api-client.js';
import { leadsCsv, manyLeads } from '../support/builders.js';
import { unzipEntries, zipCsv } from '../support/zip.js';

export interface FileCounts {
  readonly status?: string;
  readonly added_count?: number;
  readonly skipped_count?: number;
  readonly updated_count?: number;
  readonly total_count?: number;
}

export function fileOf(job: Record<string, unknown>): FileCounts {
  return (job.resource as { file: FileCounts }[] | undefined)?.[0]?.file ?? {};
}

/** Uploads `n` leads `Lead <start+i>` / `lead<start+i>@example.com` and creates an insert job of them. */
export async function createLeadsJob(api: RawApi, n: number, start = 0, extra: Record<string, unknown> = {}): Promise<string> {
  const fileId = await api.uploadFileId(await zipCsv('leads.csv', leadsCsv(['Last_Name', 'Email'], manyLeads(n, undefined, start))));
  return api.createJobId({
    operation: 'insert',
    resource: [{ type: 'data', module: { api_name: 'Leads' }, file_id: fileId, field_mappings: [{ api_name: 'Last_Name', index: 0 }, { api_name: 'Email', index: 1 }] }],
    ...extra,
  });
}

/** Polls until the job's total_count is within [min, max] and returns it; fails if the job ends first. */
export async function waitForProgress(api: RawApi, jobId: string, min: number, max: number, timeoutMs = 60_000): Promise<number> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const res = await api.getJob(jobId);
    const total = fileOf(res.json).total_count ?? 0;
    if (total >= min && total <= max) return total;
    if (res.json.status === 'COMPLETED' || res.json.status === 'FAILED' || total > max) {
      throw new Error(`job ${jobId} passed ${max} rows (${total}, ${String(res.json.status)}) before the test could act`);
    }
    if (Date.now() > until) throw new Error(`job ${jobId} did not reach ${min} rows within ${timeoutMs} ms`);
    await sleep(20);
  }
}

/** Where the processes under test keep their state. */
export type StoreLocation = { readonly dataDir: string } | { readonly databaseUrl: string };

/** Reads the store the processes share through the Store port, as one more process would. */
async function withStore<T>(where: StoreLocation, read: (store: Store) => Promise<T>): Promise<T> {
  const { store } = await openStores(buildConfig({ ...where, logLevel: 'error' }, {}));
  try {
    return await read(store);
  } finally {
    await store.close();
  }
}

export function countLeads(where: StoreLocation, orgId: string): Promise<number> {
  return withStore(where, async (store) => {
    const leads = (await store.listModules(orgId)).find((m) => m.apiName === 'Leads');
    if (!leads) throw new Error('no Leads module');
    return store.countRecords(leads.id);
  });
}

export function orgIds(where: StoreLocation): Promise<string[]> {
  return withStore(where, async (store) => (await store.listOrgs()).map((o) => o.id));
}

/** A job's state and committed rows, read while no process runs it. */
export function checkpointOf(where: StoreLocation, orgId: string, jobId: string): Promise<{ status: string; rowsDone: number }> {
  return withStore(where, async (store) => {
    const job = await store.getJob(orgId, jobId);
    if (!job) throw new Error(`no job ${jobId}`);
    return { status: job.status, rowsDone: job.resources[0]?.progress.rowsDone ?? 0 };
  });
}

/**
 * The job of `createLeadsJob(api, n, start)` ran exactly once: COMPLETED with n rows added, the
 * result CSV holds one line per input row in input order, each with its own record id.
 */
export async function expectRanOnce(api: RawApi, jobId: string, n: number, start = 0): Promise<void> {
  const job = await api.waitForJob(jobId, 120_000);
  expect(job.status).toBe('COMPLETED');
  expect(fileOf(job)).toEqual({ status: 'COMPLETED', name: 'leads.csv', added_count: n, skipped_count: 0, updated_count: 0, total_count: n });
  const dl = await api.download((job.result as { download_url: string }).download_url);
  expect(dl.status).toBe(200);
  const entries = [...(await unzipEntries(dl.body)).values()];
  expect(entries).toHaveLength(1);
  const lines = (entries[0] as Buffer).toString('utf8').split('\n');
  expect(lines[0]).toBe('Last_Name,Email,STATUS,RECORD_ID,ERRORS');
  expect(lines.at(-1)).toBe('');
  expect(lines.length - 2).toBe(n);
  const ids = new Set<string>();
  let firstWrong: string | null = null;
  for (let i = 0; i < n; i++) {
    const line = lines[i + 1] as string;
    const k = start + i;
    const m = /^Lead (\d+),lead(\d+)@example\.com,ADDED,(\d{19}),$/.exec(line);
    if (!m || Number(m[1]) !== k || Number(m[2]) !== k) {
      firstWrong ??= `line ${i + 2}: ${line}`;
      continue;
    }
    ids.add(m[3] as string);
  }
  expect(firstWrong).toBeNull();
  expect(ids.size).toBe(n);
}
