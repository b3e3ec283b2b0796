/** A job paused by a version that kept its result lines raw resumes on this one, which deflates them. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { buildConfig } from '../../src/config.js';
import { deflateResultLines } from '../../src/ingest/result-file.js';
import type { Store } from '../../src/ports/store.js';
import { openStores } from '../../src/server.js';
import { MIGRATIONS } from '../../src/store/postgres/migrations.js';

/** The PostgreSQL migration that added the columns this test drops, and those after it, applied again on reopening. */
const DEFLATED_CHUNKS_VERSION = MIGRATIONS.findIndex((m) => m.includes('ADD COLUMN IF NOT EXISTS raw_bytes')) + 1;
import { resultBytes } from '../support/result-parts.js';
import { createTestDatabase, queryTestDatabase } from '../support/test-database.js';
import { aBatch, aJob, recordRows, seedOrg } from './store-builders.js';

interface Backing {
  open(): Promise<Store>;
  /** Takes the schema back to before result chunks had raw_bytes and crc (and jobs interrupted_runs). */
  downgrade(): Promise<void>;
  remove(): Promise<void>;
}

const backends: { name: string; create(): Promise<Backing> }[] = [
  {
    name: 'SqliteStore',
    async create() {
      const dataDir = await mkdtemp(path.join(tmpdir(), 'bulkwright-upgrade-'));
      return {
        open: async () => (await openStores(buildConfig({ dataDir }, {}))).store,
        async downgrade() {
          const db = new Database(path.join(dataDir, 'bulkwright.db'));
          const version = db.pragma('user_version', { simple: true }) as number;
          db.exec('ALTER TABLE result_chunks DROP COLUMN raw_bytes; ALTER TABLE result_chunks DROP COLUMN crc; ALTER TABLE jobs DROP COLUMN interrupted_runs');
          db.pragma(`user_version = ${version - 1}`);
          db.close();
        },
        remove: () => rm(dataDir, { recursive: true, force: true }),
      };
    },
  },
  {
    name: 'PostgresStore',
    async create() {
      const db = await createTestDatabase();
      return {
        open: async () => (await openStores(buildConfig({ databaseUrl: db.url }, {}))).store,
        async downgrade() {
          await queryTestDatabase(db.url, 'ALTER TABLE result_chunks DROP COLUMN raw_bytes, DROP COLUMN crc; ALTER TABLE jobs DROP COLUMN interrupted_runs');
          await queryTestDatabase(db.url, `DELETE FROM schema_migrations WHERE version >= ${DEFLATED_CHUNKS_VERSION}`);
        },
        remove: () => db.drop(),
      };
    },
  },
];

describe.each(backends)('$name', (backend) => {
  it('reads the raw lines an earlier version committed, then the deflated ones after them', async () => {
    const backing = await backend.create();
    try {
      let store = await backing.open();
      const org = await seedOrg(store);
      const [jobId] = (await store.allocateIds(1)) as [string];
      await store.createJob(aJob(org, jobId));
      await store.claimJob('worker-a', 60_000, new Date());
      const first = await aBatch(store, org, jobId, 'worker-a', 1);
      const header = Buffer.from('Last_Name,STATUS\nA,ADDED\n');
      await store.commitBatch({ ...first, resultLines: header, progress: { ...first.progress, resultBytes: header.length } });
      await store.close();
      await backing.downgrade();

      store = await backing.open();
      try {
        const next = await aBatch(store, org, jobId, 'worker-a', 1);
        const records = next.records.map((r) => ({ ...r, values: { ...r.values, Email: 'next@example.com' } }));
        const lines = Buffer.from('B,ADDED\n');
        const end = header.length + lines.length;
        await store.commitBatch({
          ...next, inserts: recordRows(records), resultLines: await deflateResultLines(lines), continues: header.length, progress: { ...next.progress, resultBytes: end },
        });
        expect((await resultBytes(store.readResult(jobId, 0, end))).toString()).toBe('Last_Name,STATUS\nA,ADDED\nB,ADDED\n');
      } finally {
        await store.close();
      }
    } finally {
      await backing.remove();
    }
  });
});
