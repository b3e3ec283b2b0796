import { afterEach, beforeEach, expect, it } from 'vitest';
import { buildConfig } from '../../src/config.js';
import type { Store } from '../../src/ports/store.js';
import { openStores } from '../../src/server.js';
import { createTestDatabase, queryTestDatabase, type TestDatabase } from '../support/test-database.js';
import { seedOrg } from './store-builders.js';

let db: TestDatabase;
const open = async (): Promise<Store> => (await openStores(buildConfig({ databaseUrl: db.url }, {}))).store;

beforeEach(async () => {
  db = await createTestDatabase();
});

afterEach(async () => {
  await db.drop();
});

const uniqueOf = (table: string) =>
  queryTestDatabase<{ deferrable: boolean }>(
    db.url,
    `SELECT c.condeferrable AS deferrable FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid
     LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid
     WHERE t.relname = '${table}' AND x.indisunique AND NOT x.indisprimary`,
  );

it('turns the unique indexes of record tables made before deferrable constraints into such constraints', async () => {
  let store = await open();
  const org = await seedOrg(store);
  await store.close();
  const table = `rec_${org.moduleId}`;
  expect(await uniqueOf(table)).toEqual([{ deferrable: true }]);

  // The table as the previous schema version made it: a plain unique index, no constraint.
  const [{ name } = { name: '' }] = await queryTestDatabase<{ name: string }>(
    db.url,
    `SELECT conname AS name FROM pg_constraint WHERE conrelid = '${table}'::regclass AND contype = 'u'`,
  );
  await queryTestDatabase(db.url, `ALTER TABLE ${table} DROP CONSTRAINT "${name}"`);
  await queryTestDatabase(db.url, `CREATE UNIQUE INDEX ON ${table} ("_key_Email")`);
  // Version 4 made them deferrable; the versions after it apply again unchanged.
  await queryTestDatabase(db.url, 'DELETE FROM schema_migrations WHERE version >= 4');
  expect(await uniqueOf(table)).toEqual([{ deferrable: null }]);

  store = await open();
  await store.close();
  expect(await uniqueOf(table)).toEqual([{ deferrable: true }]);
});

it('hands out ids above every id given one at a time before ids came in blocks', async () => {
  let store = await open();
  await store.close();
  // The sequence as versions before 5 left it: one id a nextval(), some already handed out.
  await queryTestDatabase(db.url, 'ALTER SEQUENCE id_counter INCREMENT BY 1');
  await queryTestDatabase(db.url, 'DELETE FROM schema_migrations WHERE version >= 5');
  const [{ last } = { last: '0' }] = await queryTestDatabase<{ last: string }>(db.url, "SELECT max(n)::text AS last FROM (SELECT nextval('id_counter') AS n FROM generate_series(1, 5)) s");

  store = await open();
  try {
    const ids = await store.allocateIds(1500);
    expect(new Set(ids).size).toBe(1500);
    expect(Number(ids[0]?.slice(7))).toBeGreaterThan(Number(last));
  } finally {
    await store.close();
  }
});
