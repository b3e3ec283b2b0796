import type pg from 'pg';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { buildConfig } from '../../src/config.js';
import type { Store } from '../../src/ports/store.js';
import { openStores } from '../../src/server.js';
import { PgIdAllocator } from '../../src/store/postgres/id-allocator.js';
import { PgModuleCatalog } from '../../src/store/postgres/module-catalog.js';
import { createPool } from '../../src/store/postgres/pg-pool.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { aBatch, aJob, recordRows, seedOrg, type PlainRecord } from './store-builders.js';

let db: TestDatabase;
let store: Store;
let pool: pg.Pool;

beforeEach(async () => {
  db = await createTestDatabase();
  store = (await openStores(buildConfig({ databaseUrl: db.url }, {}))).store;
  pool = createPool(db.url);
});

afterEach(async () => {
  await pool.end();
  await store.close();
  await db.drop();
});

/** A pool whose first read of a table's columns waits until `release` is called. */
function withHeldColumnsRead(p: pg.Pool): { pool: pg.Pool; reached: Promise<void>; release: () => void } {
  let release!: () => void;
  let reach!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const reached = new Promise<void>((resolve) => (reach = resolve));
  let first = true;
  const query = p.query.bind(p) as (...args: unknown[]) => Promise<unknown>;
  const wrapped = Object.create(p) as pg.Pool;
  (wrapped as unknown as { query: (...args: unknown[]) => Promise<unknown> }).query = async (...args: unknown[]) => {
    if (first && typeof args[0] === 'string' && args[0].includes('FROM pg_attribute')) {
      first = false;
      reach();
      await held;
    }
    return query(...args);
  };
  return { pool: wrapped, reached, release };
}

it('tags a record table read while the schema moved with the version read before its columns, and does not cache it', async () => {
  const org = await seedOrg(store);
  const gate = withHeldColumnsRead(pool);
  const catalog = new PgModuleCatalog(gate.pool, await PgIdAllocator.open(pool));
  // One read of the table stops before its columns, its module already read.
  const first = catalog.recordTableOfVersion(org.moduleId, true);
  await gate.reached;
  // Another process adds a unique field (a key column); a second read sees the new version.
  await store.applySchema(org.orgId, { newModules: [], newFields: [{ moduleApiName: 'Leads', field: { apiName: 'Badge', dataType: 'text', unique: true } }] });
  const second = await catalog.recordTableOfVersion(org.moduleId, true);
  gate.release();
  const stale = await first;
  // The first read's table lacks the new field: it must not pass the new version's check.
  expect(stale.version).not.toBe(second.version);
  expect(Number(stale.version)).toBeLessThan(Number(second.version));
  // And the table kept for later batches is the second read's.
  expect((await catalog.recordTableOfVersion(org.moduleId, false)).table).toBe(second.table);
});

it('stores no modification or owner where an insert’s is its creation, and a modification an update gives', async () => {
  const org = await seedOrg(store);
  const [jobId] = (await store.allocateIds(1)) as [string];
  await store.createJob(aJob(org, jobId));
  await store.claimJob('worker-a', 60_000, new Date());
  const batch = await aBatch(store, org, jobId, 'worker-a', 2);
  const [x, y] = batch.records as [PlainRecord, PlainRecord];
  const bare = (r: PlainRecord): PlainRecord => ({ id: r.id, values: { Last_Name: r.values.Last_Name as string, Email: r.values.Email as string } });
  const created = { Created_Time: '2025-05-05T05:05:05+00:00', Modified_Time: '2025-05-05T05:05:05+00:00', Created_By: org.userId, Modified_By: org.userId };
  await store.commitBatch({ ...batch, inserts: recordRows([bare(x), bare(y)], { ...created, Owner: org.userId }) });
  const later = { Modified_Time: '2026-06-06T06:06:06+00:00', Modified_By: org.userId };
  await store.commitBatch({ ...batch, inserts: recordRows([]), updates: recordRows([{ id: y.id, values: { Score: 2 } }], later, []) });

  const { rows } = await pool.query(`SELECT id::text, "Modified_Time", "Modified_By", "Owner" FROM "rec_${org.moduleId}" ORDER BY id`);
  expect(rows).toEqual([
    { id: x.id, Modified_Time: null, Modified_By: null, Owner: null },
    { id: y.id, ...later, Owner: null },
  ]);
  expect((await store.getRecord(org.moduleId, x.id))?.values).toMatchObject({ ...created, Owner: org.userId });
  expect((await store.getRecord(org.moduleId, y.id))?.values).toMatchObject({ ...created, ...later, Owner: org.userId });
});
