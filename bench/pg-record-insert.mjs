// Measures three ways to write a batch of record rows to PostgreSQL (docs/architecture.md "Records"):
// COPY FROM STDIN (pg-copy-streams), one multi-row INSERT … VALUES, and INSERT … SELECT FROM unnest(arrays).
// Usage: node bench/pg-record-insert.mjs [postgres://…] — creates and drops its own database.
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

const ADMIN_URL = process.argv[2] ?? process.env.BULKWRIGHT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const BATCH = 2000;
const BATCHES = 20;
const ROUNDS = 3;
const FULL = process.env.FULL === '1';
// A Leads-shaped table: id, 4 system columns, 20 text fields, a unique Email (index on lower()), an indexed Owner.
const TEXT_COLS = Array.from({ length: 20 }, (_, i) => `F${i}`);
const COLS = ['id', 'Created_Time', 'Modified_Time', 'Created_By', 'Modified_By', 'Owner', 'Email', ...TEXT_COLS];

const dbName = `bw_bench_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client({ connectionString: ADMIN_URL });
await admin.connect();
await admin.query(`CREATE DATABASE ${dbName}`);
const url = new URL(ADMIN_URL);
url.pathname = `/${dbName}`;
const client = new pg.Client({ connectionString: url.toString() });
await client.connect();

let nextId = 4_000_000_000_000_000_000n;
function makeBatch() {
  return Array.from({ length: BATCH }, () => {
    const id = (nextId++).toString();
    // About half the fields empty, as in a typical import that maps a subset of columns.
    return [id, '2024-01-02T03:04:05+05:30', '2024-01-02T03:04:05+05:30', '4000000000000000001', '4000000000000000001',
      '4000000000000000001', `lead${id}@example.com`, ...TEXT_COLS.map((_, i) => (FULL || i % 2 === 0 ? `value ${i} of ${id}` : null))];
  });
}

const q = (c) => `"${c}"`;
async function resetTable() {
  await client.query('DROP TABLE IF EXISTS rec');
  await client.query(`CREATE TABLE rec ("id" BIGINT PRIMARY KEY, ${COLS.slice(1).map((c) => `${q(c)} TEXT COLLATE "C"`).join(', ')})`);
  await client.query('CREATE UNIQUE INDEX rec_u_email ON rec (lower("Email"))');
  await client.query('CREATE INDEX rec_i_owner ON rec ("Owner")');
}

const escapeCopy = (v) => (v === null ? '\\N' : v.replace(/[\\\n\r\t]/g, (m) => ({ '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' })[m]));

const strategies = {
  async copy(rows) {
    const text = rows.map((r) => r.map(escapeCopy).join('\t')).join('\n') + '\n';
    await pipeline(Readable.from([Buffer.from(text)]), client.query(copyFrom(`COPY rec (${COLS.map(q).join(', ')}) FROM STDIN`)));
  },
  async values(rows) {
    const per = Math.floor(65535 / COLS.length);
    for (let s = 0; s < rows.length; s += per) {
      const chunk = rows.slice(s, s + per);
      const params = [];
      const tuples = chunk.map((r) => `(${r.map((v) => (params.push(v), `$${params.length}`)).join(', ')})`);
      await client.query(`INSERT INTO rec (${COLS.map(q).join(', ')}) VALUES ${tuples.join(', ')}`, params);
    }
  },
  async unnest(rows) {
    const arrays = COLS.map((_, c) => rows.map((r) => r[c]));
    const casts = COLS.map((c, i) => `$${i + 1}::${c === 'id' ? 'bigint' : 'text'}[]`);
    await client.query(`INSERT INTO rec (${COLS.map(q).join(', ')}) SELECT * FROM unnest(${casts.join(', ')})`, arrays);
  },
};

const results = {};
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, write] of Object.entries(strategies)) {
      await resetTable();
      const batches = Array.from({ length: BATCHES }, makeBatch);
      const t0 = process.hrtime.bigint();
      for (const rows of batches) {
        await client.query('BEGIN');
        await write(rows);
        await client.query('COMMIT');
      }
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      (results[name] ??= []).push(ms / BATCHES);
    }
  }
  for (const [name, perBatch] of Object.entries(results)) {
    const best = Math.min(...perBatch);
    console.log(`${name.padEnd(7)} ${best.toFixed(1)} ms per ${BATCH}-row batch (best of ${ROUNDS}), ${Math.round((BATCH / best) * 1000)} rows/s`);
  }
} finally {
  await client.end();
  await admin.query(`DROP DATABASE ${dbName}`);
  await admin.end();
}
