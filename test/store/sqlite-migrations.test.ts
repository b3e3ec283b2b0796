import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { buildConfig } from '../../src/config.js';
import { openStores } from '../../src/server.js';

let dataDir: string;

beforeEach(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'bulkwright-migrations-'));
});

afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

it('refuses a data dir that a newer version migrated, rather than misread it', async () => {
  const { store } = await openStores(buildConfig({ dataDir }, {}));
  await store.close();
  const db = new Database(path.join(dataDir, 'bulkwright.db'));
  const version = db.pragma('user_version', { simple: true }) as number;
  db.pragma(`user_version = ${version + 1}`);
  db.close();
  await expect(openStores(buildConfig({ dataDir }, {}))).rejects.toThrow(
    `the data dir has schema version ${version + 1}; this Bulkwright knows only ${version}: upgrade it`,
  );
});
