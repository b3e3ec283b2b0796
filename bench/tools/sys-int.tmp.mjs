import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { BENCH_HEADER, leadFields } from '../generate-leads.mjs';
import { composeId } from '../../dist/domain/ids.js';
import { STANDARD_MODULES } from '../../dist/domain/standard-modules.js';
import { createRecordTableSql, RecordTable } from '../../dist/store/sqlite/record-tables.js';
const rows = Number(process.env.ROWS ?? 1_000_000);
const work = new URL('../.work/', import.meta.url).pathname;
const DB_FILE = `${work}sysint.db`;
const removeDb = () => ['', '-wal', '-shm'].forEach((x) => rmSync(DB_FILE + x, { force: true }));
function leadsModule() {
  const spec = STANDARD_MODULES.find((m) => m.apiName === 'Leads');
  const fields = [...spec.fields, { apiName: 'Last_Contacted', dataType: 'date' }].map((f, i) => ({
    id: String(i + 1), label: f.label ?? f.apiName, length: f.length ?? null, mandatory: f.mandatory ?? false, unique: f.unique ?? false,
    readOnly: false, lookupModule: f.lookupModule ?? null, picklistValues: f.picklistValues ?? [], isNameField: f.isNameField ?? false, ...f,
  }));
  return { id: '1', apiName: 'Leads', singularLabel: 'Lead', pluralLabel: 'Leads', custom: false, fields };
}
function run(integers) {
  removeDb();
  const db = new Database(DB_FILE);
  db.pragma('page_size = 8192'); db.pragma('journal_mode = WAL'); db.pragma('synchronous = NORMAL'); db.pragma('wal_autocheckpoint = 10000'); db.pragma('cache_size = -16384');
  const module = leadsModule();
  for (let sql of createRecordTableSql('rec_leads', module.fields)) {
    if (integers) for (const c of ['Created_Time', 'Modified_Time', 'Created_By', 'Modified_By', 'Owner']) sql = sql.replace(`"${c}" TEXT`, `"${c}" INTEGER`);
    db.exec(sql);
  }
  const table = new RecordTable(db, 'rec_leads', module);
  const columns = BENCH_HEADER;
  const integer = columns.indexOf('No_of_Employees');
  const user = composeId(4150868, 1);
  const shared = integers
    ? { Created_Time: 1796385600, Modified_Time: 1796385600, Created_By: BigInt(user), Modified_By: BigInt(user), Owner: BigInt(user) }
    : { Created_Time: '2026-12-01T10:00:00+00:00', Modified_Time: '2026-12-01T10:00:00+00:00', Created_By: user, Modified_By: user, Owner: user };
  const insert = db.transaction((batch) => table.insert(batch));
  let seconds = 0;
  for (let first = 0; first < rows; first += 2000) {
    const fields = [];
    for (let i = first; i < first + 2000 && i < rows; i++) fields.push(leadFields(i));
    const batch = structuredClone({ columns, shared, keptKeys: [], ids: fields.map((_, r) => composeId(4150868, 1_000_000 + first + r)),
      values: columns.map((_, c) => fields.map((row) => (c === integer ? Number(row[c]) : row[c]))) });
    const t0 = performance.now(); insert(batch); seconds += (performance.now() - t0) / 1000;
  }
  const size = db.prepare('PRAGMA page_count').pluck().get();
  db.close(); removeDb();
  return `${seconds.toFixed(2)} s, ${(size * 8192 / 1e6).toFixed(0)} MB`;
}
for (let i = 0; i < 3; i++) console.log(`text ${run(false)} | integers ${run(true)}`);
