import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildConfig, type ConfigInput } from '../../src/config.js';
import { createBulkwright, type Bulkwright } from '../../src/server.js';
import { createTestDatabase, queryTestDatabase, testBackend } from './test-database.js';

export interface TestServer {
  readonly baseUrl: string;
  readonly orgId: string;
  readonly userId: string;
  readonly userName: string;
  /** A token holding every scope. */
  readonly token: string;
  readonly dataDir: string;
  /** Where the store lives: env BULKWRIGHT_TEST_BACKEND. */
  readonly backend: 'sqlite' | 'postgres';
  readonly bw: Bulkwright;
  /** Records of a module of the default org, read straight from the store. */
  countRecords(moduleApiName: string): Promise<number>;
  /** Uploaded zips kept in blob storage. */
  countUploads(): Promise<number>;
  close(): Promise<void>;
}

/**
 * Starts a real server on a free port over a fresh data dir, and on PostgreSQL a fresh database
 * of its own (HTTP on loopback, as users reach it).
 */
export async function startTestServer(input: ConfigInput = {}): Promise<TestServer> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'bulkwright-test-'));
  const backend = testBackend();
  const database = backend === 'postgres' ? await createTestDatabase() : null;
  const config = buildConfig(
    {
      port: 0,
      host: '127.0.0.1',
      dataDir,
      databaseUrl: database?.url ?? null,
      logLevel: 'error',
      timeZone: 'Asia/Kolkata',
      ...input,
      // Jobs run in this thread in tests (the job thread runs compiled code; the CLI tests cover it).
      worker: { pollMs: 50, batchSize: 500, mode: 'inline', ...input.worker },
      callbacks: { attempts: 3, backoffBaseMs: 50, timeoutMs: 2000, ...input.callbacks },
    },
    {},
  );
  const bw = await createBulkwright(config).catch(async (e: unknown) => {
    await database?.drop();
    throw e;
  });
  const baseUrl = await bw.listen();
  const token = bw.setup.token;
  if (!token) throw new Error('a fresh data dir must yield a token');
  return {
    baseUrl,
    orgId: bw.setup.org.id,
    userId: bw.setup.admin.id,
    userName: bw.setup.admin.name,
    token,
    dataDir,
    backend,
    bw,
    async countRecords(moduleApiName) {
      const modules = await bw.store.listModules(bw.setup.org.id);
      const m = modules.find((x) => x.apiName === moduleApiName);
      if (!m) throw new Error(`no module ${moduleApiName}`);
      return bw.store.countRecords(m.id);
    },
    async countUploads() {
      if (database) {
        const rows = await queryTestDatabase<{ n: string }>(database.url, "SELECT count(*) AS n FROM blobs WHERE key LIKE 'uploads/%'");
        return Number(rows[0]?.n ?? 0);
      }
      return (await readdir(path.join(dataDir, 'blobs', 'uploads')).catch(() => [])).length;
    },
    async close() {
      await bw.close();
      await rm(dataDir, { recursive: true, force: true });
      await database?.drop();
    },
  };
}
