import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvText } from '../support/import-run.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { cliWorkDir, connectionFlags, createdJobIds, runCli } from './cli-run.js';

let server: TestServer;
let work: string;

beforeAll(async () => {
  server = await startTestServer({ worker: { batchSize: 2000 } });
  work = await cliWorkDir();
});

afterAll(async () => {
  await server.close();
  await rm(work, { recursive: true, force: true });
});

const ROWS = 60_000;
/** Rows left without a Last_Name, one in each part, so each is SKIPPED where it stands. */
const NAMELESS = new Set([10, 25_001, 59_999]);
/** A name with a quoted line break, right at the first split point: one row, however many lines. */
const MULTILINE = 25_000;

function lastName(n: number): string {
  if (NAMELESS.has(n)) return '';
  return n === MULTILINE ? `Row\n${n}` : `Row ${n}`;
}

describe('bulkwright import of a file over the per-job row limit', () => {
  it('splits 60,000 rows into three jobs and merges their results in input order', { timeout: 180_000 }, async () => {
    const rows = Array.from({ length: ROWS }, (_, k) => [lastName(k + 1), `row${k + 1}@example.com`]);
    const file = path.join(work, 'big.csv');
    await writeFile(file, csvText(['Last_Name', 'Email'], rows));
    const out = path.join(work, 'merged.csv');

    const run = await runCli(work, ['import', file, '--module', 'Leads', '--result', out, '--poll-interval', '200', ...connectionFlags(server)]);
    expect(run.stderr).not.toContain('bulkwright:');
    expect(run.code).toBe(0);
    const ids = createdJobIds(run.stdout);
    expect(ids).toHaveLength(3);
    expect(run.stdout).toBe(
      `job ${ids[0]} created: rows 1-25000 of ${file} (part 1 of 3)\n` +
        `job ${ids[1]} created: rows 25001-50000 of ${file} (part 2 of 3)\n` +
        `job ${ids[2]} created: rows 50001-60000 of ${file} (part 3 of 3)\n` +
        'COMPLETED: 3 jobs, 60000 rows: 59997 added, 0 updated, 3 skipped\n' +
        'skipped rows:\n' +
        '  row 10: MANDATORY_NOT_FOUND-Last_Name\n' +
        '  row 25001: MANDATORY_NOT_FOUND-Last_Name\n' +
        '  row 59999: MANDATORY_NOT_FOUND-Last_Name\n' +
        `report: ${out} (60000 rows, in input order, ROW = input data row)\n`,
    );

    for (const [k, total] of [25_000, 25_000, 10_000].entries()) {
      const job = await server.bw.store.getJob(server.orgId, ids[k] as string);
      expect(job?.resources[0]?.spec.fileName).toBe(`big-part${k + 1}.csv`);
      const c = job?.resources[0]?.progress.counts;
      expect((c?.added ?? 0) + (c?.updated ?? 0) + (c?.skipped ?? 0)).toBe(total);
    }

    const report = parse(await readFile(out, 'utf8')) as string[][];
    expect(report[0]).toEqual(['ROW', 'Last_Name', 'Email', 'STATUS', 'RECORD_ID', 'ERRORS']);
    expect(report).toHaveLength(ROWS + 1);
    const mismatches = report.slice(1).filter((r, k) => {
      const n = k + 1;
      const status = NAMELESS.has(n) ? 'SKIPPED' : 'ADDED';
      return r[0] !== String(n) || r[1] !== lastName(n) || r[2] !== `row${n}@example.com` || r[3] !== status;
    });
    expect(mismatches).toEqual([]);
    expect(await server.countRecords('Leads')).toBe(ROWS - NAMELESS.size);
  });
});
