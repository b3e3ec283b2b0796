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
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: ['test/api/**', 'test/workers/**'] } },
      api('sqlite'),
      api('postgres'),
      // Real `bulkwright` processes killed mid-job: run alone, after the rest, so that timing-bound
      // steps (a kill between 10% and 90% of a job) do not compete with other files for the CPU.
      {
        extends: true,
        test: { name: 'workers', include: ['test/workers/**/*.test.ts'], fileParallelism: false, testTimeout: 180_000, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
