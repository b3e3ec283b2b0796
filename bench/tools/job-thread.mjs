// The job thread's work alone, in one thread, with no writer and no HTTP: zip entry → batches →
// BatchProcessor → result lines, against an empty SQLite store (its lookups all miss, as in the
// bench's insert). Prints the time, the processor's and the result lines' share, and GC counts.
// Run under the job thread's GC settings (threaded-job-processing.ts) for comparable GC:
//   node --max-semi-space-size=10 --no-parallel-scavenge --heap-growing-percent=100 bench/tools/job-thread.mjs [ZIP=bench/.work/leads-1000000.zip] [insert|upsert]
// BATCH=n sets the rows per batch (2000, as the server). LINES=1 reads as for PostgreSQL: each
// batch keeps its record bytes and inserts go as their lines (RecordRows.lines); CHECKS=0 then reads
// every cell as a string (no cellChecks).
// (npm run bench makes the zip; so does `node bench/generate-leads.mjs` plus any zip tool.)
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { FsBlobStore } from '../../dist/blob/fs/fs-blob-store.js';
import { STANDARD_MODULES } from '../../dist/domain/standard-modules.js';
import { BatchProcessor } from '../../dist/ingest/batch-processor.js';
import { readCsvBatches } from '../../dist/ingest/csv-source.js';
import { resultLines } from '../../dist/ingest/result-file.js';
import { openZipBlob } from '../../dist/ingest/zip-source.js';
import { SqliteStore } from '../../dist/store/sqlite/sqlite-store.js';
import { BENCH_HEADER } from '../generate-leads.mjs';

const zipPath = process.argv[2] ?? new URL('../.work/leads-1000000.zip', import.meta.url).pathname;
const operation = process.argv[3] ?? 'insert';
if (!existsSync(zipPath)) {
  console.error(`${zipPath} is missing: run npm run bench once (it caches its files in bench/.work/)`);
  process.exit(2);
}
let gcCount = 0;
let gcMs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gcCount++;
    gcMs += e.duration;
  }
}).observe({ entryTypes: ['gc'] });

const dir = mkdtempSync(path.join(tmpdir(), 'bulkwright-job-thread-'));
try {
  mkdirSync(path.join(dir, 'uploads'));
  copyFileSync(zipPath, path.join(dir, 'uploads', 'leads.zip'));
  const store = new SqliteStore(path.join(dir, 'bulkwright.db'));
  const [orgId, userId] = await store.allocateIds(2);
  // The bench's schema (bench/schema.yaml): standard Leads plus a Last_Contacted date.
  const modules = STANDARD_MODULES.map((m) => (m.apiName === 'Leads' ? { ...m, fields: [...m.fields, { apiName: 'Last_Contacted', dataType: 'date' }] } : m));
  await store.createOrg({ org: { id: orgId, name: 'Bench', timeZone: 'UTC' }, admin: { id: userId, orgId, name: 'Admin', email: 'admin@bench.local', role: 'admin', active: true }, modules });
  const all = await store.listModules(orgId);
  const leads = all.find((m) => m.apiName === 'Leads');
  const blobs = new FsBlobStore(dir);
  const zip = await openZipBlob(blobs, 'uploads/leads.zip', statSync(path.join(dir, 'uploads', 'leads.zip')).size);
  const entry = zip.entries[0];
  const lines = process.env.LINES === '1';
  const processor = new BatchProcessor({
    operation, module: leads, findBy: operation === 'insert' ? null : 'Email', ignoreEmpty: false, timeZone: 'UTC', maxRows: Number.MAX_SAFE_INTEGER,
    mappings: BENCH_HEADER.map((apiName, index) => ({ apiName, index, format: null, findBy: null, module: null, defaultValue: null })),
    columnCount: BENCH_HEADER.length, actor: await store.getUser(orgId, userId), users: await store.listUsers(orgId),
    moduleByName: (name) => all.find((m) => m.apiName === name),
    // As the job runner's first pass of an insert: no lookups, the unique indexes decide.
    trustUniqueIndexes: operation === 'insert',
    recordLines: lines, delimiter: 0x2c, echoedColumns: [0, 1, 2],
  }, store);
  let rowsDone = 0;
  let batches = 0;
  let processMs = 0;
  let resultMs = 0;
  const t0 = performance.now();
  const options = { encoding: 'UTF-8', delimiter: ',', recordBytes: lines, cellChecks: process.env.CHECKS === '0' ? undefined : processor.cellChecks };
  // Past the header, as the job runner reads.
  for await (const rows of readCsvBatches(await zip.openEntry(entry, 128 * 1024), options, Number(process.env.BATCH ?? 2000), 1)) {
    const t1 = performance.now();
    // As the server: the two batches before this one may still be committing (MAX_COMMITS_IN_FLIGHT).
    const result = await processor.process(rows, rowsDone + 1, '2026-01-01T00:00:00+00:00', Math.max(0, batches++ - 2));
    const t2 = performance.now();
    const raw = rows.recordBytes;
    resultLines(rows, result.outcomes, [0, 1, 2], raw && { bytes: raw.bytes, starts: raw.starts, ends: raw.ends, delimiter: 0x2c });
    raw?.release();
    resultMs += performance.now() - t2;
    processMs += t2 - t1;
    rowsDone += rows.length;
  }
  const total = performance.now() - t0;
  console.log(`${operation} of ${rowsDone} rows: ${total.toFixed(0)} ms (process ${processMs.toFixed(0)}, result lines ${resultMs.toFixed(0)}, reading the rest); GC ${gcCount} times, ${gcMs.toFixed(0)} ms`);
  zip.close();
  await store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
