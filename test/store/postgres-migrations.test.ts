import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { PIECE_BYTES } from '../../src/blob/pg/pg-blob-reader.js';
import { buildConfig } from '../../src/config.js';
import type { Store } from '../../src/ports/store.js';
import { openStores } from '../../src/server.js';
import { MIGRATIONS } from '../../src/store/postgres/migrations.js';
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

/** The migration that moved blobs into pieces, and those after it, applied again on reopening. */
const PIECES_VERSION = MIGRATIONS.findIndex((m) => m.includes('CREATE TABLE IF NOT EXISTS blob_pieces')) + 1;

it('moves blobs kept as 1 MB chunks by earlier versions into pieces, readable whole and by range', async () => {
  let { store } = await openStores(buildConfig({ databaseUrl: db.url }, {}));
  await store.close();
  // The schema as versions before blob pieces left it, holding blobs of their making: one of two
  // chunks that do not end on a piece's boundary, an empty one, and chunks nothing names.
  await queryTestDatabase(
    db.url,
    `DROP TABLE blob_pieces; DROP INDEX blobs_generation; DROP SEQUENCE blob_generations;
     ALTER TABLE blobs ALTER COLUMN generation SET DEFAULT 0;
     CREATE TABLE blob_chunks (key TEXT NOT NULL, pos BIGINT NOT NULL, data BYTEA NOT NULL, PRIMARY KEY (key, pos));
     ALTER TABLE blob_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
     DELETE FROM schema_migrations WHERE version >= ${PIECES_VERSION}`,
  );
  const data = randomBytes(1024 * 1024 + 12_345);
  await queryTestDatabase(db.url, "INSERT INTO blobs (key) VALUES ('uploads/old.zip'), ('uploads/empty.zip')");
  await queryTestDatabase(db.url, 'INSERT INTO blob_chunks (key, pos, data) VALUES ($1, 0, $2), ($1, 1048576, $3), ($4, 0, $5)', [
    'uploads/old.zip',
    data.subarray(0, 1048576),
    data.subarray(1048576),
    'tmp/nobody',
    randomBytes(100),
  ]);

  const opened = await openStores(buildConfig({ databaseUrl: db.url }, {}));
  ({ store } = opened);
  try {
    const readAll = async (s: Readable): Promise<Buffer> => {
      const parts: Buffer[] = [];
      for await (const c of s as AsyncIterable<Buffer>) parts.push(c);
      return Buffer.concat(parts);
    };
    const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
    expect(sha(await readAll(opened.blobs.createReadStream('uploads/old.zip')))).toBe(sha(data));
    const [start, end] = [1048576 - 9, 1048576 + 9000];
    expect((await readAll(opened.blobs.createReadStream('uploads/old.zip', { start, end }))).equals(data.subarray(start, end + 1))).toBe(true);
    expect(await opened.blobs.size('uploads/old.zip')).toBe(data.length);
    expect(await opened.blobs.size('uploads/empty.zip')).toBe(0);
    const pieces = await queryTestDatabase<{ key: string; n: string; longest: number }>(
      db.url,
      'SELECT b.key, count(*) AS n, max(length(p.data)) AS longest FROM blob_pieces p JOIN blobs b USING (generation) GROUP BY b.key',
    );
    // Each chunk cut on its own: 1 MB = 131 pieces and one of 576 bytes; 12,345 bytes = one piece and one of 4,345.
    expect(pieces).toEqual([{ key: 'uploads/old.zip', n: '134', longest: PIECE_BYTES }]);
    expect(await queryTestDatabase(db.url, "SELECT to_regclass('blob_chunks') AS t")).toEqual([{ t: null }]);
    // New blobs take generations after the moved ones.
    await opened.blobs.write('uploads/new.zip', Readable.from([Buffer.from('new')]));
    expect((await readAll(opened.blobs.createReadStream('uploads/new.zip'))).toString()).toBe('new');
    const generations = await queryTestDatabase<{ generation: string }>(db.url, 'SELECT generation FROM blobs ORDER BY generation');
    expect(new Set(generations.map((g) => g.generation)).size).toBe(3);
  } finally {
    await store.close();
  }
});
