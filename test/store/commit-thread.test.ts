import Database from 'better-sqlite3';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import { crc32 } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deflateResultLines } from '../../src/ingest/result-file.js';
import type { Worker } from 'node:worker_threads';
import { LeaseLostError, StoreUnavailableError, UniqueConflictError, type BatchCommit, type ResultPart, type Store } from '../../src/ports/store.js';
import { createPool } from '../../src/store/postgres/pg-pool.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { partBytes } from '../support/result-parts.js';
import { createTestDatabase } from '../support/test-database.js';
import { aBatch, aJob, recordRows, seedOrg, type Seeded } from './store-builders.js';

/** A store committing through a commit thread, and another connection to the same database. */
interface Pair {
  committing: Store;
  other: Store;
  close(): Promise<void>;
}

const backends: readonly [string, () => Promise<Pair>][] = [
  ['SQLite', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'bulkwright-writer-'));
    const file = path.join(dir, 'bulkwright.db');
    const committing = new SqliteStore(file, { writerThread: true });
    const other = new SqliteStore(file);
    return { committing, other, close: async () => {
      await committing.close();
      await other.close();
      await rm(dir, { recursive: true, force: true });
    } };
  }],
  ['PostgreSQL', async () => {
    const db = await createTestDatabase();
    const other = await PostgresStore.open(createPool(db.url));
    const committing = await PostgresStore.openMigrated(createPool(db.url), { commitThreadUrl: db.url });
    return { committing, other, close: async () => {
      await committing.close();
      await other.close();
      await db.drop();
    } };
  }],
];

/** The commit thread's Worker under a store (private to the store and to its CommitThread). */
function threadOf(store: Store): Worker {
  const holder = store as unknown as { writer?: { thread: Worker | null }; committer?: { thread: Worker | null } };
  const thread = (holder.writer ?? holder.committer)?.thread;
  if (!thread) throw new Error('no commit thread running');
  return thread;
}

let committing: Store;
let other: Store;
let org: Seeded;
let pair: Pair;

/** A pair opened by `open`, with an org, for each test of the describe it is called in. */
function eachWithPair(open: () => Promise<Pair>): void {
  beforeEach(async () => {
    pair = await open();
    ({ committing, other } = pair);
    org = await seedOrg(committing);
  });

  afterEach(async () => {
    await pair.close();
  });
}

describe.each(backends)('commit thread on %s', (_name, open) => {
  eachWithPair(open);

  // SQLite: the commit thread reads (the catalog's metadata version) before it writes: begun
  // deferred, a commit by another connection in between made it fail at once with "database is
  // locked" (SQLITE_BUSY_SNAPSHOT: the busy timeout does not apply), failing the job.
  it('commits batches on the commit thread while another connection keeps writing', async () => {
    const [jobId] = (await committing.allocateIds(1)) as [string];
    await committing.createJob(aJob(org, jobId));
    await committing.claimJob('worker-a', 60_000, new Date());
    let running = true;
    let writes = 0;
    const hammer = (async () => {
      while (running) {
        await other.renewLease(jobId, 'worker-a', 60_000, new Date());
        await other.allocateIds(10_001);
        writes += 2;
        await tick();
      }
    })();
    try {
      for (let i = 0; i < 150; i++) {
        const batch = await aBatch(committing, org, jobId, 'worker-a', 20);
        const records = batch.records.map((r) => ({ ...r, values: { ...r.values, Email: `batch${i}-${String(r.values.Email)}` } }));
        await committing.commitBatch({ ...batch, inserts: recordRows(records) });
      }
    } finally {
      running = false;
      await hammer;
    }
    expect(writes).toBeGreaterThan(0);
    expect(await other.countRecords(org.moduleId)).toBe(150 * 20);
  });

  it('carries result lines across the thread, and says which commits failed for a taken unique value, and which for a lost lease', async () => {
    const [jobId] = (await committing.allocateIds(1)) as [string];
    await committing.createJob(aJob(org, jobId));
    await committing.claimJob('worker-a', 60_000, new Date());
    const first = await aBatch(committing, org, jobId, 'worker-a', 2);
    const lines = Buffer.from('Last_Name,STATUS\nLead 0,ADDED\nLead 1,ADDED\n');
    // Deflated, as a job commits them: the object crosses the thread with its bytes.
    await committing.commitBatch({ ...first, resultLines: await deflateResultLines(lines), progress: { ...first.progress, resultBytes: lines.length } });
    const read: ResultPart[] = [];
    for await (const part of other.readResult(jobId, 0, lines.length)) read.push(part);
    expect(read).toHaveLength(1);
    expect(read[0]).toMatchObject({ rawBytes: lines.length, crc: crc32(lines) });
    expect(partBytes(read[0] as ResultPart).toString()).toBe(lines.toString());
    // Another writer's records took the values first: the job redoes its batch, it does not fail.
    const again = await aBatch(committing, org, jobId, 'worker-a', 2);
    await expect(committing.commitBatch(again)).rejects.toBeInstanceOf(UniqueConflictError);
    await expect(committing.commitBatch({ ...again, inserts: recordRows([]), workerId: 'worker-b' })).rejects.toBeInstanceOf(LeaseLostError);
    expect(await other.countRecords(org.moduleId)).toBe(2);
  });

  // A job sends a batch while the one before it is in flight (two at most): the thread keeps them in order.
  it('commits a batch sent while the one before it is in flight after that one, and fails it when that one fails', async () => {
    const [jobId] = (await committing.allocateIds(1)) as [string];
    await committing.createJob(aJob(org, jobId));
    await committing.claimJob('worker-a', 60_000, new Date());
    /** Batch `no` of a job whose batches are 3 rows and 100 result bytes a row, continuing from the one before. */
    const nth = async (no: number, tag: string): Promise<BatchCommit> => {
      const b = await aBatch(committing, org, jobId, 'worker-a', 3);
      const records = b.records.map((r) => ({ ...r, values: { ...r.values, Email: `${tag}-${String(r.values.Email)}` } }));
      const counts = { added: 3 * no, updated: 0, skipped: 0 };
      return { ...b, inserts: recordRows(records), continues: 300 * (no - 1), progress: { ...b.progress, counts, rowsDone: 3 * no, resultBytes: 300 * no } };
    };
    const [first, second] = [await nth(1, 'a'), await nth(2, 'b')];
    await Promise.all([committing.commitBatch(first), committing.commitBatch(second)]);
    expect(await other.countRecords(org.moduleId)).toBe(6);
    expect((await other.getJob(org.orgId, jobId))?.resources[0]?.progress).toEqual(second.progress);

    // The third takes values the first holds; the fourth, sent with it, continues from it.
    const [third, fourth] = [await nth(3, 'a'), await nth(4, 'c')];
    const outcomes = await Promise.allSettled([committing.commitBatch(third), committing.commitBatch(fourth)]);
    expect(outcomes[0]).toMatchObject({ status: 'rejected', reason: expect.any(UniqueConflictError) });
    expect(outcomes[1]).toMatchObject({ status: 'rejected' });
    expect(await other.countRecords(org.moduleId)).toBe(6);
    expect((await other.getJob(org.orgId, jobId))?.resources[0]?.progress).toEqual(second.progress);
    // Redone from the checkpoint, in flight together again.
    const [redo, after] = [await nth(3, 'd'), await nth(4, 'e')];
    await Promise.all([committing.commitBatch(redo), committing.commitBatch(after)]);
    expect(await other.countRecords(org.moduleId)).toBe(12);
  });

  // A thread that dies (out of memory, an uncaught error: a checked-out pg client's 'error' event
  // did it once) must not leave commits unanswered, nor take later ones with it.
  it('fails the commits a dying thread had as unavailable, and commits the next ones on a new thread', async () => {
    const [jobId] = (await committing.allocateIds(1)) as [string];
    await committing.createJob(aJob(org, jobId));
    await committing.claimJob('worker-a', 60_000, new Date());
    const batch = async (tag: string): Promise<BatchCommit> => {
      const b = await aBatch(committing, org, jobId, 'worker-a', 2);
      return { ...b, inserts: recordRows(b.records.map((r) => ({ ...r, values: { ...r.values, Email: `${tag}-${String(r.values.Email)}` } }))) };
    };
    await committing.commitBatch(await batch('a'));
    // The thread dies while idle (the Worker is private: reached here only, to stop it)...
    await threadOf(committing).terminate();
    // ...and its successor, started by the next commit, dies before it answers.
    const lost = committing.commitBatch(await batch('b'));
    await threadOf(committing).terminate();
    const error = await lost.then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(committing.isUnavailable(error)).toBe(true);
    expect(await other.countRecords(org.moduleId)).toBe(2);

    // The job runs again from its checkpoint, its commits on a third thread.
    await committing.commitBatch(await batch('c'));
    await committing.commitBatch(await batch('d'));
    expect(await other.countRecords(org.moduleId)).toBe(6);
  });
});

// PostgreSQL writes inserts as their CSV lines; SQLite's batches carry none.
describe('commit thread on PostgreSQL, with record lines', () => {
  eachWithPair((backends[1] as (typeof backends)[number])[1]);

  it("moves a batch's record lines to the thread and back, whether its commit succeeds or fails", async () => {
    const [jobId] = (await committing.allocateIds(1)) as [string];
    await committing.createJob(aJob(org, jobId));
    await committing.claimJob('worker-a', 60_000, new Date());
    const given: ArrayBuffer[] = [];
    /** A batch of two records given as their lines, in a buffer larger than the lines, as the CSV reader's. */
    const lined = async (workerId: string, tag: string): Promise<{ batch: BatchCommit; bytes: Uint8Array; text: string }> => {
      const text = `Line One,one${tag}@example.com\nLine Two,two${tag}@example.com\n`;
      const first = text.indexOf('\n');
      const bytes = new Uint8Array(new ArrayBuffer(64 * 1024), 0, Buffer.byteLength(text));
      bytes.set(Buffer.from(text));
      const ids = (await committing.allocateIds(2)) as string[];
      const batch = await aBatch(committing, org, jobId, workerId, 0);
      const lines = { bytes, starts: Int32Array.of(0, first + 1), ends: Int32Array.of(first, text.length - 1), delimiter: 0x2c, giveBack: (b: ArrayBuffer) => given.push(b) };
      // The key column's values come from the values; the rest of each record from its line.
      const inserts = { columns: ['Last_Name', 'Email'], ids, values: [[undefined, undefined], [`one${tag}@example.com`, `two${tag}@example.com`]], shared: {}, keptKeys: [], lines };
      return { batch: { ...batch, inserts, progress: { ...batch.progress, counts: { added: 2, updated: 0, skipped: 0 } } }, bytes, text };
    };
    const ok = await lined('worker-a', 'a');
    await committing.commitBatch(ok.batch);
    // Moved, not copied: detached here, handed back whole with the reply.
    expect(ok.bytes.byteLength).toBe(0);
    expect(given.map((b) => b.byteLength)).toEqual([64 * 1024]);
    expect(Buffer.from(given[0] as ArrayBuffer, 0, ok.text.length).toString()).toBe(ok.text);
    const stored = await other.findRecords(org.moduleId, 'Email', ['onea@example.com', 'twoa@example.com'], ['Last_Name', 'Email']);
    expect(stored.map((r) => r.values).sort((x, y) => String(x.Email).localeCompare(String(y.Email)))).toEqual([
      { Last_Name: 'Line One', Email: 'onea@example.com' },
      { Last_Name: 'Line Two', Email: 'twoa@example.com' },
    ]);
    const lost = await lined('worker-b', 'b');
    await expect(committing.commitBatch(lost.batch)).rejects.toBeInstanceOf(LeaseLostError);
    expect(given).toHaveLength(2);
    expect(await other.countRecords(org.moduleId)).toBe(2);
  });
});

it('answers a commit with the error when the commit thread cannot open its store, instead of leaving it waiting', async () => {
  const db = await createTestDatabase();
  const store = await PostgresStore.open(createPool(db.url), { commitThreadUrl: 'postgres://postgres@127.0.0.1:1/nowhere' });
  try {
    const seeded = await seedOrg(store);
    const [jobId] = (await store.allocateIds(1)) as [string];
    await store.createJob(aJob(seeded, jobId));
    await store.claimJob('worker-a', 60_000, new Date());
    const batch = await aBatch(store, seeded, jobId, 'worker-a', 2);
    await expect(store.commitBatch(batch)).rejects.toThrow(/ECONNREFUSED/);
    expect(await store.countRecords(seeded.moduleId)).toBe(0);
  } finally {
    // Its pool still closes, though the commit thread's store never opened.
    await expect(store.close()).rejects.toThrow(/ECONNREFUSED/);
    await db.drop();
  }
});

it("checkpoints SQLite's WAL into the database file once no batch has come for a while", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'bulkwright-checkpoint-'));
  const file = path.join(dir, 'bulkwright.db');
  const store = new SqliteStore(file, { writerThread: true });
  try {
    const seeded = await seedOrg(store);
    const [jobId] = (await store.allocateIds(1)) as [string];
    await store.createJob(aJob(seeded, jobId));
    await store.claimJob('worker-a', 60_000, new Date());
    store.checkpointIdle(); // what seeding wrote, so that the file's growth below is the batches'
    const before = (await stat(file)).size;
    // ~1.5 MB of WAL: far under the size that makes a commit checkpoint.
    for (let i = 0; i < 20; i++) {
      const batch = await aBatch(store, seeded, jobId, 'worker-a', 50);
      const records = batch.records.map((r, k) => ({ ...r, values: { ...r.values, Email: `wal${i}-${k}@example.com`, Last_Name: 'x'.repeat(500) } }));
      await store.commitBatch({ ...batch, inserts: recordRows(records) });
    }
    // Then idle: the pages move into the database file.
    await expect.poll(async () => (await stat(file)).size, { timeout: 5_000, interval: 50 }).toBeGreaterThan(before + 500 * 1000);
    expect(await store.countRecords(seeded.moduleId)).toBe(1000);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

// The job thread's own reservation is a write that waited behind the commit thread's batches for
// the write lock; a batch's commit reserves the next block instead, once half of one is handed out.
it("reserves a SQLite job thread's next ids with a batch's commit, and reserves its own only when that commit failed", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'bulkwright-ids-'));
  const file = path.join(dir, 'bulkwright.db');
  const store = new SqliteStore(file, { writerThread: true });
  const reader = new Database(file, { readonly: true });
  const counter = (): number => Number((reader.prepare("SELECT value FROM meta WHERE key = 'id_counter'").get() as { value: string }).value);
  const counterOf = (id: string): number => Number(id.slice(7));
  try {
    const seeded = await seedOrg(store);
    const [jobId] = (await store.allocateIds(1)) as [string];
    await store.createJob(aJob(seeded, jobId));
    await store.claimJob('worker-a', 60_000, new Date());
    const emailed = (b: Awaited<ReturnType<typeof aBatch>>, tag: string): typeof b => ({
      ...b, inserts: recordRows(b.records.map((r) => ({ ...r, values: { ...r.values, Email: `${tag}-${String(r.values.Email)}` } }))),
    });
    // A fresh block of 10,000 (what is left of the one before is too short), more than half of it handed out.
    await store.allocateIds(10_000);
    const first = await aBatch(store, seeded, jobId, 'worker-a', 6_000);
    const reserved = counter();
    expect(counterOf(first.records[0]?.id as string)).toBe(reserved - 9_999);
    // This commit takes the next block in its own transaction.
    await store.commitBatch(emailed(first, 'a'));
    expect(counter()).toBe(reserved + 10_000);
    // The rest of the block, then the block the commit reserved: no reservation of the job thread's own.
    const rest = await store.allocateIds(4_000);
    const next = await store.allocateIds(7_000);
    expect(counter()).toBe(reserved + 10_000);
    expect(counterOf(rest[3_999] as string)).toBe(reserved);
    expect(next.map(counterOf)).toEqual(Array.from({ length: 7_000 }, (_, k) => reserved + 1 + k));

    // A commit that fails (its lease is not this worker's) reserves nothing: the next block is the job thread's own.
    const refused = await aBatch(store, seeded, jobId, 'worker-b', 10);
    await expect(store.commitBatch(emailed(refused, 'b'))).rejects.toBeInstanceOf(LeaseLostError);
    expect(counter()).toBe(reserved + 10_000);
    const after = await store.allocateIds(5_000);
    expect(counter()).toBe(reserved + 20_000);
    expect(after.map(counterOf)).toEqual(Array.from({ length: 5_000 }, (_, k) => reserved + 10_001 + k));
    expect(new Set([...first.records.map((r) => r.id), ...rest, ...next, ...refused.records.map((r) => r.id), ...after]).size).toBe(6_000 + 4_000 + 7_000 + 10 + 5_000);
    expect(await store.countRecords(seeded.moduleId)).toBe(6_000);
  } finally {
    reader.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});
