// What the store's own bulk loader takes for the rows Bulkwright stores, against the bench's
// baseline: the ceiling of the bench's ratios for any importer that stores those rows.
// It runs one insert job, exports the records table the job filled (Leads: Zoho's standard fields,
// the system columns, the id, the folded key of the unique Email), then times, alternately:
//   SQLite: the `sqlite3` shell `.import`ing those rows into a new database with the same table
//           and indexes, in one transaction (the shell's way), against the baseline's `.import` of
//           the CSV into a 10-column table with a unique index (bench/baselines.mjs);
//   PostgreSQL (PG=url of an empty database): `psql \copy` of those rows into a fresh table with
//           the same columns and constraints, against the baseline's `\copy` of the CSV.
// Neither side of either pair parses a zip, validates, writes result lines or commits more than
// once: the ratio printed is an upper bound on the bench's ratio, whatever Bulkwright does.
//   ROWS=1000000 [RUNS=3] [PG=postgres://…/db] node bench/tools/row-shape.mjs
// Needs bench/.work/leads-<ROWS>.{zip,csv} (npm run bench makes them).
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { postgresCopy, sqliteImport } from '../baselines.mjs';
import { BenchApi } from '../bench-api.mjs';
import { startServer } from '../server-process.mjs';

const rows = Number(process.env.ROWS ?? 1_000_000);
const runs = Number(process.env.RUNS ?? 3);
const pgUrl = process.env.PG ?? null;
const work = new URL('../.work/', import.meta.url).pathname;
const zip = `${work}leads-${rows}.zip`;
const csv = `${work}leads-${rows}.csv`;
if (!existsSync(zip) || !existsSync(csv)) {
  console.error(`${zip} or its CSV is missing: run npm run bench once (it caches its files in bench/.work/)`);
  process.exit(2);
}
const exported = `${work}row-shape-${rows}.rows`;

const server = await startServer({ databaseUrl: pgUrl });
let schema;
try {
  const api = new BenchApi(server);
  const jobId = await api.createJob(await api.upload(zip), 'insert');
  const { job } = await api.waitForJob(jobId, 2);
  if (job.status !== 'COMPLETED') throw new Error(`the insert job ended ${job.status}`);
  schema = pgUrl ? exportPostgres(pgUrl) : exportSqlite(path.join(server.dataDir, 'bulkwright.db'));
} finally {
  await server.stop();
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ours = [];
const baseline = [];
for (let i = 0; i < runs; i++) {
  ours.push(pgUrl ? copyPostgres(pgUrl, schema) : importSqlite(schema));
  baseline.push(pgUrl ? postgresCopy(pgUrl, csv, rows).seconds : sqliteImport(csv, rows).seconds);
}
rmSync(exported, { force: true });
const what = pgUrl ? 'psql \\copy' : 'sqlite3 .import';
console.log(`${what} of the ${rows} rows Bulkwright stored: ${median(ours).toFixed(2)} s (runs: ${ours.map((s) => s.toFixed(2)).join(', ')})`);
console.log(`${what} of the bench's CSV (baseline): ${median(baseline).toFixed(2)} s (runs: ${baseline.map((s) => s.toFixed(2)).join(', ')})`);
console.log(`ceiling of the bench's ratio: ${(median(baseline) / median(ours)).toFixed(3)}`);

/** The filled records table's DDL (table and indexes), and its rows in ASCII mode (0x1F, 0x1E): no value holds those. */
function exportSqlite(db) {
  const table = execFileSync('sqlite3', [db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'rec\\_%' ESCAPE '\\' ORDER BY name"], { encoding: 'utf8' })
    .split('\n').filter(Boolean)
    .find((t) => Number(execFileSync('sqlite3', [db, `SELECT count(*) FROM "${t}"`], { encoding: 'utf8' })) === rows);
  if (!table) throw new Error(`no records table with ${rows} rows`);
  const ddl = execFileSync('sqlite3', [db, `SELECT sql || ';' FROM sqlite_master WHERE tbl_name = '${table}' AND sql IS NOT NULL`], { encoding: 'utf8' });
  execFileSync('sqlite3', [db, '.mode ascii', `.output ${exported}`, `SELECT * FROM "${table}"`]);
  return { table, ddl };
}

function importSqlite({ table, ddl }) {
  const db = `${work}row-shape.db`;
  rmSync(db, { force: true });
  const t0 = performance.now();
  const count = execFileSync('sqlite3', [db, ddl, '.mode ascii', `.import ${exported} ${table}`, '.mode list', `SELECT count(*) FROM "${table}"`], { encoding: 'utf8' });
  const seconds = (performance.now() - t0) / 1000;
  rmSync(db, { force: true });
  if (Number(count.trim()) !== rows) throw new Error(`sqlite3 imported ${count.trim()} rows, expected ${rows}`);
  return seconds;
}

function exportPostgres(url) {
  const table = execFileSync('psql', [url, '-tAc', "SELECT relname FROM pg_class WHERE relkind = 'r' AND relname LIKE 'rec\\_%' ORDER BY relname"], { encoding: 'utf8' })
    .split('\n').filter(Boolean)
    .find((t) => Number(execFileSync('psql', [url, '-tAc', `SELECT count(*) FROM "${t}"`], { encoding: 'utf8' })) === rows);
  if (!table) throw new Error(`no records table with ${rows} rows`);
  execFileSync('psql', [url, '-qc', `\\copy "${table}" TO '${exported}'`]);
  return { table };
}

/** A fresh copy of the table (columns, collations, constraints: LIKE … INCLUDING ALL), filled by one `\copy`. */
function copyPostgres(url, { table }) {
  execFileSync('psql', [url, '-qc', `DROP TABLE IF EXISTS row_shape; CREATE TABLE row_shape (LIKE "${table}" INCLUDING ALL)`]);
  const t0 = performance.now();
  execFileSync('psql', [url, '-qc', `\\copy row_shape FROM '${exported}'`]);
  const seconds = (performance.now() - t0) / 1000;
  const count = execFileSync('psql', [url, '-tAc', 'SELECT count(*) FROM row_shape'], { encoding: 'utf8' }).trim();
  execFileSync('psql', [url, '-qc', 'DROP TABLE row_shape']);
  if (Number(count) !== rows) throw new Error(`psql copied ${count} rows, expected ${rows}`);
  return seconds;
}
