import { afterAll, beforeAll } from 'vitest';
import { createTestDatabase, testBackend, type TestDatabase } from './test-database.js';

/**
 * Setup file of the API test projects. Servers started by startTestServer get a database each;
 * this covers the `bulkwright` subprocesses a test spawns, which read env DATABASE_URL: on
 * PostgreSQL they share one fresh database per test file, on SQLite none leaks in from the shell.
 */
if (testBackend() === 'postgres') {
  let database: TestDatabase | null = null;
  beforeAll(async () => {
    database = await createTestDatabase();
    process.env.DATABASE_URL = database.url;
  });
  afterAll(async () => {
    delete process.env.DATABASE_URL;
    await database?.drop();
  });
} else {
  delete process.env.DATABASE_URL;
}
