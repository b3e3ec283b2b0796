import pg from 'pg';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { OneTripQuery, runOneTrip } from '../../src/store/postgres/one-trip-query.js';
import { createTestDatabase, queryTestDatabase, type TestDatabase } from '../support/test-database.js';

let db: TestDatabase;
let pool: pg.Pool;

beforeEach(async () => {
  db = await createTestDatabase();
  await queryTestDatabase(db.url, 'CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); CREATE TABLE log (n INTEGER)');
  // One connection: every query below runs on the one the query before it left behind.
  pool = new pg.Pool({ connectionString: db.url, max: 1 });
});

afterEach(async () => {
  await pool.end();
  await db.drop();
});

const rows = async (): Promise<unknown[]> => (await pool.query('SELECT id, v FROM t ORDER BY id')).rows;
/** One COPY's data, a piece a line. */
const lines = (...l: string[]): Buffer[][] => [l.map((x) => Buffer.from(`${x}\n`))];
/** The rows the statements around a COPY wrote into `log`. */
const logged = async (): Promise<number> =>
  Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM log')).rows[0]?.n);

it('commits a transaction with its COPY data in one query, the data in pieces cut anywhere', async () => {
  const data = Buffer.from('1\tone\n2\ttwo\n3\tthré\n');
  const cut = data.indexOf(0xa9); // inside the é
  await runOneTrip(pool, 'BEGIN; INSERT INTO log VALUES (1); COPY t (id, v) FROM STDIN; INSERT INTO log VALUES (2); COMMIT', [
    [data.subarray(0, 9), data.subarray(9, cut), data.subarray(cut)],
  ]);
  expect(await rows()).toEqual([{ id: 1, v: 'one' }, { id: 2, v: 'two' }, { id: 3, v: 'thré' }]);
  expect(await logged()).toBe(2);
});

it('feeds each COPY of a query its own data, in order, and ignores the second\'s when the first fails', async () => {
  const two = 'BEGIN; COPY t (id, v) FROM STDIN; INSERT INTO log SELECT count(*) FROM t; COPY t (id, v) FROM STDIN; COMMIT';
  await runOneTrip(pool, two, [...lines('1\tone', '2\ttwo'), ...lines('3\tthree')]);
  expect(await rows()).toEqual([{ id: 1, v: 'one' }, { id: 2, v: 'two' }, { id: 3, v: 'three' }]);
  expect((await pool.query('SELECT n FROM log')).rows).toEqual([{ n: 2 }]);
  await expect(runOneTrip(pool, two, [...lines('4\tfour', 'x\tbad'), ...lines('5\tfive')])).rejects.toMatchObject({ code: '22P02' });
  // The second COPY's data reached a connection out of COPY, and was ignored: the next query runs as usual.
  await runOneTrip(pool, two, [...lines('6\tsix'), ...lines('7\tseven')]);
  expect((await rows()).map((r) => (r as { id: number }).id)).toEqual([1, 2, 3, 6, 7]);
});

it('runs a query without COPY data', async () => {
  await runOneTrip(pool, 'BEGIN; INSERT INTO t VALUES (7, $$x$$); COMMIT');
  expect(await rows()).toEqual([{ id: 7, v: 'x' }]);
});

it('rejects with the server error of a statement before the COPY, keeps nothing, and the connection ignores the data sent', async () => {
  const failing = runOneTrip(pool, "BEGIN; INSERT INTO log VALUES (1); SELECT 1 / 0; COPY t (id, v) FROM STDIN; COMMIT", lines('1\tone'));
  await expect(failing).rejects.toMatchObject({ code: '22012' });
  // The COPY data reached a connection out of COPY: the next query on it runs as usual.
  await runOneTrip(pool, 'BEGIN; COPY t (id, v) FROM STDIN; COMMIT', lines('5\tfive'));
  expect(await rows()).toEqual([{ id: 5, v: 'five' }]);
  expect(await logged()).toBe(0);
});

it('rolls back a COPY whose data fails midway, and one whose COMMIT fails, the connection usable after each', async () => {
  await expect(runOneTrip(pool, 'BEGIN; COPY t (id, v) FROM STDIN; COMMIT', lines('1\tone', 'x\ttwo', '3\tthree'))).rejects.toMatchObject({ code: '22P02' });
  await queryTestDatabase(db.url, 'ALTER TABLE t ADD CONSTRAINT v_once UNIQUE (v) DEFERRABLE INITIALLY DEFERRED');
  await expect(runOneTrip(pool, 'BEGIN; COPY t (id, v) FROM STDIN; COMMIT', lines('1\tsame', '2\tsame'))).rejects.toMatchObject({ code: '23505' });
  expect(await rows()).toEqual([]);
  await runOneTrip(pool, 'BEGIN; COPY t (id, v) FROM STDIN; COMMIT', lines('4\tfour'));
  expect(await rows()).toEqual([{ id: 4, v: 'four' }]);
});

it('rejects with the SQLSTATE a statement raises after the COPY, keeping none of the COPY', async () => {
  const text = "BEGIN; COPY t (id, v) FROM STDIN; DO $$ BEGIN RAISE EXCEPTION 'no' USING ERRCODE = 'BW001'; END $$; COMMIT";
  await expect(runOneTrip(pool, text, lines('1\tone'))).rejects.toMatchObject({ code: 'BW001' });
  expect(await rows()).toEqual([]);
});

it('is sent only once its socket holds none of the COPY data, though the server answers earlier', async () => {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    // 64 MB of COPY data behind a statement that fails at once: the server answers as soon as it
    // reads that statement, and discards the data after, as it arrives.
    const piece = Buffer.alloc(64 * 1024, 0x78);
    const query = new OneTripQuery('SELECT 1 / 0; COPY t (id, v) FROM STDIN', [Array.from({ length: 1024 }, () => piece)]);
    const socket = (client as unknown as { connection: { stream: { writableLength: number } } }).connection.stream;
    void client.query(query as unknown as pg.QueryConfig);
    await expect(query.done).rejects.toMatchObject({ code: '22012' });
    const pendingAtAnswer = socket.writableLength;
    await query.sent();
    expect(socket.writableLength).toBe(0);
    // What sent() is for: answered, the query's data was still on its way out.
    expect(pendingAtAnswer).toBeGreaterThan(0);
    expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  } finally {
    await client.end();
  }
});

it('is sent, and fails, when its connection dies with the COPY data still on its way out', async () => {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  client.on('error', () => undefined);
  const piece = Buffer.alloc(64 * 1024, 0x78);
  const query = new OneTripQuery('SELECT pg_sleep(10); COPY t (id, v) FROM STDIN', [Array.from({ length: 1024 }, () => piece)]);
  void client.query(query as unknown as pg.QueryConfig);
  const socket = (client as unknown as { connection: { stream: { writableLength: number; destroy(): void } } }).connection.stream;
  expect(socket.writableLength).toBeGreaterThan(0);
  socket.destroy();
  await expect(query.done).rejects.toThrow();
  // Not left waiting for writes that will never happen: the buffers are free again.
  await query.sent();
  await client.end().catch(() => undefined);
});

it('is sent at once when it carries no COPY data, or was never submitted', async () => {
  await expect(new OneTripQuery('SELECT 1').sent()).resolves.toBeUndefined();
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    const query = new OneTripQuery('SELECT 1');
    void client.query(query as unknown as pg.QueryConfig);
    await query.done;
    await expect(query.sent()).resolves.toBeUndefined();
  } finally {
    await client.end();
  }
});
