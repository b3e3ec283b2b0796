import { defineConfig } from 'vitest/config';

/**
 * One suite, every backend (DESIGN.md "Tests"): the API tests run once on SQLite and once on
 * PostgreSQL (each test server in a database of its own); everything else runs once.
 */
const api = (backend: 'sqlite' | 'postgres') => ({
  extends: true as const,
  test: {
    name: `api-${backend}`,
    include: ['test/api/**/*.test.ts'],
    env: { BULKWRIGHT_TEST_BACKEND: backend },
    setupFiles: ['test/support/backend-env.ts'],
  },
});

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: ['test/api/**'] } },
      api('sqlite'),
      api('postgres'),
    ],
  },
});
