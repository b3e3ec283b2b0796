// How fast better-sqlite3 itself can store the bench's rows, against the `sqlite3` shell's
// `.import` of the same CSV (the bench's baseline): the floor under any importer built on this
// driver, before it reads a zip, parses, validates or writes a result line.
// The rows are the CSV's own values (generate-leads.mjs makes both), built in memory a batch at a
// time outside the clock; only the driver's calls are timed. Alternately, RUNS times each:
//   shell:       `.import` of the CSV into the baseline's table (10 text columns, unique Email), one
//                transaction, the shell's default journal (bench/baselines.mjs);
//   driver, one transaction: the same table and journal, 50-row INSERT statements, values passed as
//                arguments (as Bulkwright's SQLite store passes them);
//   driver, as the store commits: the same, in WAL mode with 8 KB pages, synchronous = NORMAL and a
//                checkpoint every 10,000 pages, 2,000-row transactions (Bulkwright's batches);
//   records table: the same rows and transactions into the Leads records table through the store's
//                own RecordTable.insert (dist/), as the commit thread writes them: the id, the CSV's
//                10 columns (the module's other fields left NULL), the four system columns and the
//                default Owner (bound once per statement), the folded Email in its key column.
// The shell's time is the bench's baseline as bench/baselines.mjs takes it: its process, the table's
// creation and the count included.
//   ROWS=1000000 [RUNS=3] [ONLY=records] node bench/tools/driver-floor.mjs
// ONLY=records runs the last measure alone, e.g. under `valgrind --tool=callgrind` (instructions
// are the same from one run to the next, where this VM's seconds are not).
// Needs bench/.work/leads-<ROWS>.csv (npm run bench makes it) and a build (npm run build).
import Database from 'better-sqlite3';
import { existsSync, rmSync } from 'node:fs';
import { sqliteImport } from '../baselines.mjs';
import { BENCH_HEADER, leadFields } from '../generate-leads.mjs';
import { composeId } from '../../dist/domain/ids.js';
import { STANDARD_MODULES } from '../../dist/domain/standard-modules.js';
import { createRecordTableSql, RecordTable } from '../../dist/store/sqlite/record-tables.js';

const rows = Number(process.env.ROWS ?? 1_000_000);
const runs = Number(process.env.RUNS ?? 3);
const work = new URL('../.work/', import.meta.url).pathname;
const csv = `${work}leads-${rows}.csv`;
const only = process.env.ONLY ?? null;
if (only !== null && only !== 'records') throw new Error(`ONLY=${only}: only ONLY=records is known`);
if (!only && !existsSync(csv)) {
  console.error(`${csv} is missing: run npm run bench once (it caches its files in bench/.work/)`);
  process.exit(2);
}
const ROWS_PER_STATEMENT = 50;
const BATCH = 2000;

const DB_FILE = `${work}driver-floor.db`;
const removeDb = () => ['', '-wal', '-shm', '-journal'].forEach((x) => rmSync(DB_FILE + x, { force: true }));

function openDb(store) {
  removeDb();
  const db = new Database(DB_FILE);
  if (store) {
    // As store/sqlite/sqlite-connection.ts opens a database (the commit thread's cache size).
    db.pragma('page_size = 8192');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('wal_autocheckpoint = 10000');
    db.pragma('cache_size = -16384');
  }
  return db;
}

/** Seconds in `insert(batch)` over all rows, each batch made by `prepare` from its leadFields rows outside the clock. */
function timedBatches(prepare, insert) {
  let seconds = 0;
  // Rows 0 … rows - 1, as generate-leads.mjs writes them into the CSV.
  for (let first = 0; first < rows; first += BATCH) {
    const fields = [];
    for (let i = first; i < first + BATCH && i < rows; i++) fields.push(leadFields(i));
    const batch = prepare(fields, first);
    const t0 = performance.now();
    insert(batch);
    seconds += (performance.now() - t0) / 1000;
  }
  return seconds;
}

function checkCount(db, table) {
  const count = db.prepare(`SELECT count(*) FROM "${table}"`).pluck().get();
  db.close();
  removeDb();
  if (count !== rows) throw new Error(`better-sqlite3 stored ${count} rows, expected ${rows}`);
}

/** Seconds spent in better-sqlite3 inserting every row; `store` sets up the database as Bulkwright's store does. */
function driverInsert(store) {
  const db = openDb(store);
  const width = BENCH_HEADER.length;
  db.exec(`CREATE TABLE leads (${BENCH_HEADER.map((c) => `"${c}" TEXT`).join(', ')}); CREATE UNIQUE INDEX leads_email ON leads ("Email")`);
  const tuple = `(${new Array(width).fill('?').join(', ')})`;
  const many = db.prepare(`INSERT INTO leads VALUES ${new Array(ROWS_PER_STATEMENT).fill(tuple).join(', ')}`);
  const one = db.prepare(`INSERT INTO leads VALUES ${tuple}`);
  const params = new Array(width * ROWS_PER_STATEMENT);
  const insertBatch = (batch) => {
    let r = 0;
    for (; r + ROWS_PER_STATEMENT <= batch.length; r += ROWS_PER_STATEMENT) {
      for (let k = 0; k < ROWS_PER_STATEMENT; k++) {
        const row = batch[r + k];
        for (let c = 0; c < width; c++) params[k * width + c] = row[c];
      }
      many.run(...params);
    }
    for (; r < batch.length; r++) one.run(...batch[r]);
  };
  const inTransaction = db.transaction(insertBatch);
  let seconds = 0;
  if (store) seconds = timedBatches((b) => b, inTransaction);
  else {
    const t0 = performance.now();
    db.exec('BEGIN');
    seconds = (performance.now() - t0) / 1000 + timedBatches((b) => b, insertBatch);
    const t1 = performance.now();
    db.exec('COMMIT');
    seconds += (performance.now() - t1) / 1000;
  }
  checkCount(db, 'leads');
  return seconds;
}

/** The Leads module as an org has it, with the bench's custom date field (bench/schema.yaml). */
function leadsModule() {
  const spec = STANDARD_MODULES.find((m) => m.apiName === 'Leads');
  const fields = [...spec.fields, { apiName: 'Last_Contacted', dataType: 'date' }].map((f, i) => ({
    id: String(i + 1), label: f.label ?? f.apiName, length: f.length ?? null, mandatory: f.mandatory ?? false, unique: f.unique ?? false,
    readOnly: false, lookupModule: f.lookupModule ?? null, picklistValues: f.picklistValues ?? [], isNameField: f.isNameField ?? false, ...f,
  }));
  return { id: '1', apiName: 'Leads', singularLabel: 'Lead', pluralLabel: 'Leads', custom: false, fields };
}

/** Seconds in RecordTable.insert, in 2,000-row transactions, the store's way. */
function recordTableInsert() {
  const db = openDb(true);
  const module = leadsModule();
  for (const sql of createRecordTableSql('rec_leads', module.fields)) db.exec(sql);
  const table = new RecordTable(db, 'rec_leads', module);
  const columns = BENCH_HEADER;
  const integer = columns.indexOf('No_of_Employees');
  const user = composeId(4150868, 1);
  const shared = { Created_Time: '2026-12-01T10:00:00+00:00', Modified_Time: '2026-12-01T10:00:00+00:00', Created_By: user, Modified_By: user, Owner: user };
  // By column, as the job thread's batches arrive (ports/store.ts RecordRows), coerced as it coerces
  // them, and cloned as postMessage clones them (flat strings, where concatenation made ropes).
  const prepare = (fields, first) => structuredClone({
    columns, shared, keptKeys: [],
    ids: fields.map((_, r) => composeId(4150868, 1_000_000 + first + r)),
    values: columns.map((_, c) => fields.map((row) => (c === integer ? Number(row[c]) : row[c]))),
  });
  const seconds = timedBatches(prepare, db.transaction((batch) => table.insert(batch)));
  checkCount(db, 'rec_leads');
  return seconds;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const shell = [];
const oneTx = [];
const storeWay = [];
const records = [];
for (let i = 0; i < runs; i++) {
  if (!only) {
    shell.push(sqliteImport(csv, rows).seconds);
    oneTx.push(driverInsert(false));
    storeWay.push(driverInsert(true));
  }
  records.push(recordTableInsert());
}
if (only) {
  console.log(`records table: ${records.map((s) => s.toFixed(2)).join(', ')} s`);
  process.exit(0);
}
const line = (what, xs) =>
  console.log(`${what}: ${median(xs).toFixed(2)} s (runs: ${xs.map((s) => s.toFixed(2)).join(', ')}), ratio ${(median(shell) / median(xs)).toFixed(3)}`);
line('sqlite3 .import of the CSV (baseline)', shell);
line('better-sqlite3, same rows from memory, one transaction', oneTx);
line('better-sqlite3, same rows from memory, as the store commits', storeWay);
line('the same rows into the Leads records table (RecordTable.insert)', records);
