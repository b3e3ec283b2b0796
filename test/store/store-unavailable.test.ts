import { describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../src/ports/store.js';
import { isPgUnavailable } from '../../src/store/postgres/pg-errors.js';
import { createPool } from '../../src/store/postgres/pg-pool.js';
import { isSqliteUnavailable } from '../../src/store/sqlite/sqlite-errors.js';
import { createTestDatabase, queryTestDatabase } from '../support/test-database.js';

const coded = (code: string, message = 'x'): Error => Object.assign(new Error(message), { code });

describe('which errors say the store could not be reached for now (a job then runs again later)', () => {
  it('on PostgreSQL: connection exceptions, shutdowns, start-up, too many connections, cut sockets, and pg ending a connection', () => {
    for (const e of [
      coded('57P01', 'terminating connection due to administrator command'),
      coded('57P02'),
      coded('57P03', 'the database system is starting up'),
      coded('53300'),
      coded('08006'),
      coded('08001'),
      coded('ECONNRESET', 'read ECONNRESET'),
      coded('ECONNREFUSED'),
      coded('EPIPE'),
      new Error('Connection terminated unexpectedly'),
      new Error('Client has encountered a connection error and is not queryable'),
      new Error('timeout exceeded when trying to connect'),
      new StoreUnavailableError('the commit thread stopped: exit code 1'),
    ]) {
      expect(isPgUnavailable(e), e.message).toBe(true);
    }
    // A file's fault, a constraint, a bug: the job fails (or redoes a batch) as before.
    for (const e of [coded('23505'), coded('22P02'), coded('BW002'), coded('ENOENT'), new Error('invalid central directory file header signature: 0x0'), new TypeError('x is undefined')]) {
      expect(isPgUnavailable(e), e.message).toBe(false);
    }
    expect(isPgUnavailable('ECONNRESET')).toBe(false);
    expect(isPgUnavailable(null)).toBe(false);
  });

  it('on SQLite: the write lock held past the busy timeout, and a commit thread that stopped', () => {
    expect(isSqliteUnavailable(coded('SQLITE_BUSY'))).toBe(true);
    expect(isSqliteUnavailable(coded('SQLITE_BUSY_SNAPSHOT'))).toBe(true);
    expect(isSqliteUnavailable(new StoreUnavailableError('the commit thread stopped: exit code 1'))).toBe(true);
    expect(isSqliteUnavailable(coded('SQLITE_CONSTRAINT_UNIQUE'))).toBe(false);
    expect(isSqliteUnavailable(coded('SQLITE_CORRUPT'))).toBe(false);
    expect(isSqliteUnavailable(undefined)).toBe(false);
  });
});

describe('a pool client checked out when PostgreSQL ends its connection', () => {
  // The pool listens for errors only on idle clients: the 'error' event of a checked-out one, heard
  // by nobody, was an uncaught exception that killed the thread (a commit thread, mid-job).
  it('fails its queries with an error that says so, raises nothing uncaught, and the pool serves again', async () => {
    const db = await createTestDatabase();
    const pool = createPool(db.url);
    try {
      const client = await pool.connect();
      const [{ pid }] = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows as [{ pid: number }];
      const running = client.query('SELECT pg_sleep(30)').then(() => null, (e: unknown) => e);
      await queryTestDatabase(db.url, 'SELECT pg_terminate_backend($1)', [pid]);
      const error = await running;
      expect(isPgUnavailable(error)).toBe(true);
      // What a transaction's caller does next: its ROLLBACK fails too, rather than wait forever.
      const rollback = await client.query('ROLLBACK').then(() => null, (e: unknown) => e);
      expect(isPgUnavailable(rollback)).toBe(true);
      client.release(true);
      expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows[0]?.one).toBe(1);
    } finally {
      await pool.end();
      await db.drop();
    }
  });
});
