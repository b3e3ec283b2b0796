import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The backend the API tests run on: env BULKWRIGHT_TEST_BACKEND (the vitest projects set it). */
export function testBackend(): 'sqlite' | 'postgres' {
  const b = process.env.BULKWRIGHT_TEST_BACKEND ?? 'sqlite';
  if (b !== 'sqlite' && b !== 'postgres') throw new Error(`BULKWRIGHT_TEST_BACKEND must be sqlite or postgres, not ${b}`);
  return b;
}

/** A server where the tests may create databases (.ci/run makes sure it answers). */
const ADMIN_URL = process.env.BULKWRIGHT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  readonly url: string;
  drop(): Promise<void>;
}

async function asAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh, empty database of its own, so that tests running side by side share nothing. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `bw_test_${randomBytes(6).toString('hex')}`;
  await asAdmin(async (c) => {
    await c.query(`CREATE DATABASE ${name}`);
    // A test database need not survive an OS crash: commits return without waiting for the disk.
    await c.query(`ALTER DATABASE ${name} SET synchronous_commit = off`);
  });
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    // FORCE: a killed CLI process may leave a connection behind for a moment.
    drop: () => asAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

/** Runs one query on a test database (for assertions that look under the store, such as blob counts). */
export async function queryTestDatabase<R extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}
