import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { constants, crc32, deflateRawSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildConfig } from '../../src/config.js';
import { deflateResultLines } from '../../src/ingest/result-file.js';
import { NEW_RESOURCE_PROGRESS, type ResourceProgress } from '../../src/domain/job.js';
import { CheckpointMovedError, LeaseLostError, UniqueConflictError, type BatchCommit, type DeflatedLines, type RecordQuery, type ResultPart, type Store } from '../../src/ports/store.js';
import { openStores } from '../../src/server.js';
import { SetupService } from '../../src/services/setup-service.js';
import { TokenService } from '../../src/services/token-service.js';
import { partBytes, resultBytes } from '../support/result-parts.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { aBatch, aJob, recordRows, seedModule, seedOrg, type PlainRecord, type Seeded } from './store-builders.js';

/**
 * The Store port's promises, held by every backend alike: two store instances on one database
 * stand for two processes.
 */
interface Backing {
  open(): ReturnType<typeof openStores>;
  remove(): Promise<void>;
}

const backends: { name: string; create(): Promise<Backing> }[] = [
  {
    name: 'SqliteStore',
    async create() {
      const dataDir = await mkdtemp(path.join(tmpdir(), 'bulkwright-contract-'));
      return { open: () => openStores(buildConfig({ dataDir }, {})), remove: () => rm(dataDir, { recursive: true, force: true }) };
    },
  },
  {
    name: 'PostgresStore',
    async create() {
      const db: TestDatabase = await createTestDatabase();
      return { open: () => openStores(buildConfig({ databaseUrl: db.url }, {})), remove: () => db.drop() };
    },
  },
];

describe.each(backends)('$name', (backend) => {
  let backing: Backing;
  let a: Store;
  let b: Store;
  let org: Seeded;

  beforeEach(async () => {
    backing = await backend.create();
    a = (await backing.open()).store;
    b = (await backing.open()).store;
    org = await seedOrg(a);
  });

  afterEach(async () => {
    await a.close();
    await b.close();
    await backing.remove();
  });

  /** A new job, claimed by worker-a through store a: its id. */
  async function claimedJob(): Promise<string> {
    const [jobId] = (await a.allocateIds(1)) as [string];
    await a.createJob(aJob(org, jobId));
    await a.claimJob('worker-a', 60_000, new Date());
    return jobId;
  }

  /** A resource's result lines, read whole through `store`. */
  async function resultOf(store: Store, jobId: string, bytes: number): Promise<Buffer> {
    return resultBytes(store.readResult(jobId, 0, bytes));
  }

  it("answers a user or a job only to its own org, also when the read is cached", async () => {
    const other = await seedOrg(a);
    const jobId = await claimedJob();
    for (let round = 0; round < 2; round++) {
      expect((await a.getUser(org.orgId, org.userId))?.id).toBe(org.userId);
      expect(await a.getUser(other.orgId, org.userId)).toBeNull();
      expect((await a.getJob(org.orgId, jobId))?.id).toBe(jobId);
      expect(await a.getJob(other.orgId, jobId)).toBeNull();
    }
  });

  it("hands out ids in ascending order across a job's batch-sized calls, while another store takes ids too", async () => {
    const ours: string[] = [];
    for (let batch = 0; batch < 30; batch++) {
      ours.push(...(await a.allocateIds(2000)));
      // Another process reserving in between (on PostgreSQL, while this store's next reservation may be under way).
      await b.allocateIds(1500);
    }
    expect(new Set(ours).size).toBe(ours.length);
    for (let i = 1; i < ours.length; i++) expect(BigInt(ours[i] as string) > BigInt(ours[i - 1] as string)).toBe(true);
  });

  it('allocates ids that are unique across two stores on one database', async () => {
    const batches = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).allocateIds(50)));
    const ids = batches.flat();
    expect(new Set(ids).size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^[1-8]\d{18}$/);
    expect(new Set(ids.map((id) => id.slice(0, 7))).size).toBe(1);
    for (const batch of batches) expect([...batch].sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1))).toEqual(batch);
  });

  it('allocates ids of any count, one or thousands, unique, ascending within each call, across two stores', async () => {
    const counts = [1, 999, 2500, 1, 1000, 3, 1001, 7];
    const batches = await Promise.all(counts.map((n, i) => (i % 2 === 0 ? a : b).allocateIds(n)));
    expect(batches.map((batch) => batch.length)).toEqual(counts);
    expect(new Set(batches.flat()).size).toBe(counts.reduce((x, y) => x + y, 0));
    for (const batch of batches) expect([...batch].sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1))).toEqual(batch);
    // Later calls of one store hand out later ids.
    const [before] = (await a.allocateIds(1)) as [string];
    const [after] = (await a.allocateIds(1)) as [string];
    expect(BigInt(after) > BigInt(before)).toBe(true);
  });

  it('hands each runnable job to exactly one of two concurrent claimers', async () => {
    const jobIds = await a.allocateIds(12);
    for (const [i, id] of jobIds.entries()) await a.createJob(aJob(org, id, new Date(Date.UTC(2024, 0, 1, 0, 0, i))));
    const claimAll = async (store: Store, worker: string): Promise<string[]> => {
      const got: string[] = [];
      for (;;) {
        const job = await store.claimJob(worker, 60_000, new Date());
        if (!job) return got;
        got.push(job.id);
      }
    };
    const [byA, byB] = await Promise.all([claimAll(a, 'worker-a'), claimAll(b, 'worker-b')]);
    expect([...byA, ...byB].sort()).toEqual([...jobIds].sort());
  });

  it('counts the runs in a row that a claim takes a job from unreleased, until a batch commits', async () => {
    const [jobId] = (await a.allocateIds(1)) as [string];
    await a.createJob(aJob(org, jobId));
    let t = Date.now();
    const claim = async (store: Store, worker: string) => {
      t += 2_000; // past the last lease of 1 s
      const job = await store.claimJob(worker, 1_000, new Date(t));
      expect(job?.id).toBe(jobId);
      return job?.interruptedRuns;
    };
    expect(await claim(a, 'worker-a')).toBe(0); // a new job
    expect(await claim(b, 'worker-b')).toBe(1); // worker-a's run never released it
    // Renewing the lease is no progress; a commit refused for a lost lease changes nothing.
    expect(await b.renewLease(jobId, 'worker-b', 1_000, new Date(t))).toBe(true);
    await expect(a.commitBatch({ ...(await aBatch(a, org, jobId, 'worker-a', 1)), now: new Date(t) })).rejects.toBeInstanceOf(LeaseLostError);
    expect(await claim(a, 'worker-a')).toBe(2);
    await a.commitBatch({ ...(await aBatch(a, org, jobId, 'worker-a', 1)), now: new Date(t), leaseMs: 1_000 });
    expect(await claim(b, 'worker-b')).toBe(1); // the run before committed a batch
    await b.releaseLease(jobId, 'worker-b'); // a graceful stop
    expect(await claim(a, 'worker-a')).toBe(1);
    // Released for a retry's wait (an error): no claim before it ends, and the run is not counted.
    await a.releaseLease(jobId, 'worker-a', new Date(t + 5_000));
    expect(await b.claimJob('worker-b', 1_000, new Date(t + 4_000))).toBeNull();
    t += 4_000;
    expect(await claim(b, 'worker-b')).toBe(1);
    expect((await a.getJob(org.orgId, jobId))?.status).toBe('ADDED');
  });

  it('gives a claimant running other jobs no job a crash may have interrupted, nor one behind it', async () => {
    const [older, newer] = (await a.allocateIds(2)) as [string, string];
    await a.createJob(aJob(org, older, new Date(Date.UTC(2024, 0, 1, 0, 0, 0))));
    await a.createJob(aJob(org, newer, new Date(Date.UTC(2024, 0, 1, 0, 0, 1))));
    const t = Date.now();
    // A busy claimant takes a job never claimed.
    const first = await a.claimJob('worker-a', 1_000, new Date(t), { sharing: true });
    expect(first).toMatchObject({ id: older, interruptedRuns: 0 });
    // worker-a goes down holding it. Past its lease the job is runnable, but a claim would count
    // an interrupted run: a busy claimant takes neither it nor the newer job behind it, and the
    // job is left as it was.
    expect(await b.claimJob('worker-b', 1_000, new Date(t + 2_000), { sharing: true })).toBeNull();
    expect(await b.claimJob('worker-b', 1_000, new Date(t + 2_000), { sharing: true, ownerGone: () => true })).toBeNull();
    // A claimant with nothing else running takes it, counted.
    const alone = await b.claimJob('worker-b', 1_000, new Date(t + 2_000));
    expect(alone).toMatchObject({ id: older, interruptedRuns: 1 });
    // While it is leased, the newer job is the oldest runnable one: busy claimants take it.
    expect(await a.claimJob('worker-c', 60_000, new Date(t + 2_000), { sharing: true })).toMatchObject({ id: newer, interruptedRuns: 0 });
    // Released gracefully before any batch commits, the job is still one a crash interrupted: a
    // busy claimant leaves it, until a committed batch starts the count again.
    await b.releaseLease(older, 'worker-b');
    expect(await a.claimJob('worker-a', 1_000, new Date(t + 2_000), { sharing: true })).toBeNull();
    const again = await a.claimJob('worker-a', 1_000, new Date(t + 2_000));
    expect(again).toMatchObject({ id: older, interruptedRuns: 1 });
    await a.commitBatch({ ...(await aBatch(a, org, older, 'worker-a', 1)), now: new Date(t + 2_000), leaseMs: 1_000 });
    await a.releaseLease(older, 'worker-a');
    expect(await b.claimJob('worker-b', 1_000, new Date(t + 2_000), { sharing: true })).toMatchObject({ id: older, interruptedRuns: 0 });
  });

  it('gives a job whose lease expired to another worker and refuses the old holder every write', async () => {
    const [jobId] = (await a.allocateIds(1)) as [string];
    await a.createJob(aJob(org, jobId));
    const t0 = new Date();
    expect((await a.claimJob('worker-a', 1000, t0))?.id).toBe(jobId);
    expect(await b.claimJob('worker-b', 1000, new Date(t0.getTime() + 500))).toBeNull();
    const taken = await b.claimJob('worker-b', 60_000, new Date(t0.getTime() + 2000));
    expect(taken?.id).toBe(jobId);

    await expect(a.commitBatch(await aBatch(a, org, jobId, 'worker-a', 1))).rejects.toBeInstanceOf(LeaseLostError);
    await expect(a.startResource(jobId, 'worker-a', 0, 'UTF-8')).rejects.toBeInstanceOf(LeaseLostError);
    await expect(a.finishResource(jobId, 'worker-a', 0, NEW_RESOURCE_PROGRESS, null)).rejects.toBeInstanceOf(LeaseLostError);
    expect(await a.renewLease(jobId, 'worker-a', 1000, new Date())).toBe(false);
    expect(await b.countRecords(org.moduleId)).toBe(0);

    await b.startResource(jobId, 'worker-b', 0, 'UTF-8');
    await b.commitBatch(await aBatch(b, org, jobId, 'worker-b', 3));
    expect(await a.countRecords(org.moduleId)).toBe(3);
    expect((await a.getJob(org.orgId, jobId))?.resources[0]?.progress).toMatchObject({ rowsDone: 3, counts: { added: 3 } });
  });

  it('keeps result lines with the checkpoint that counts them, none of a refused batch, and drops them at the job\'s end', async () => {
    const jobId = await claimedJob();
    const text = (s: string): Uint8Array => new TextEncoder().encode(s);
    const batchWith = async (store: Store, workerId: string, lines: string, resultBytes: number, email = `lines${resultBytes}@example.com`) => {
      const batch = await aBatch(store, org, jobId, workerId, 1);
      const records = batch.records.map((r) => ({ ...r, values: { ...r.values, Email: email } }));
      return { ...batch, inserts: recordRows(records), resultLines: text(lines), progress: { ...batch.progress, resultBytes } };
    };
    await a.commitBatch(await batchWith(a, 'worker-a', 'Last_Name,STATUS\nA,ADDED\n', 25));
    // The same lines at the same place again (a rerun's first commit) change nothing.
    await a.commitBatch({ ...(await batchWith(a, 'worker-a', 'Last_Name,STATUS\nA,ADDED\n', 25)), inserts: recordRows([]) });
    await a.commitBatch(await batchWith(a, 'worker-a', 'B,ADDED\n', 33));
    // Refused for a taken unique value, and for a lost lease: their lines are not kept either.
    await expect(a.commitBatch(await batchWith(a, 'worker-a', 'C,ADDED\n', 41, 'lines33@example.com'))).rejects.toBeInstanceOf(UniqueConflictError);
    await expect(a.commitBatch(await batchWith(a, 'worker-b', 'D,ADDED\n', 41))).rejects.toBeInstanceOf(LeaseLostError);
    // More than one chunk row holds (RESULT_PIECE_BYTES): kept in pieces, read back whole.
    const long = `${'é'.repeat(2_100_000)}\n`;
    await a.commitBatch(await batchWith(a, 'worker-a', long, 33 + Buffer.byteLength(long)));
    const read = async (store: Store, bytes: number): Promise<string> => (await resultOf(store, jobId, bytes)).toString('utf8');
    const all = 33 + Buffer.byteLength(long);
    expect(await read(b, all)).toBe(`Last_Name,STATUS\nA,ADDED\nB,ADDED\n${long}`);
    await expect(read(b, all + 1)).rejects.toThrow(`result lines from byte ${all} are missing (the checkpoint counts ${all + 1})`);

    await a.finishResource(jobId, 'worker-a', 0, NEW_RESOURCE_PROGRESS, { status: 'COMPLETED', resultKey: `results/${jobId}.zip`, failure: null, at: new Date(), callback: null });
    expect(await read(b, 0)).toBe('');
  });

  it('keeps deflated result lines as committed, between raw ones, placed by the bytes of the CSV they inflate to', async () => {
    const jobId = await claimedJob();
    const batchWith = async (lines: ResultPart, resultBytes: number, email = `parts${resultBytes}@example.com`) => {
      const batch = await aBatch(a, org, jobId, 'worker-a', 1);
      const records = batch.records.map((r) => ({ ...r, values: { ...r.values, Email: email } }));
      return { ...batch, inserts: recordRows(records), resultLines: lines, progress: { ...batch.progress, resultBytes } };
    };
    const raw = (s: string): Buffer => Buffer.from(s, 'utf8');
    // A job an earlier version began: its header and first batch raw; this version's batches deflated.
    await a.commitBatch(await batchWith(raw('Last_Name,STATUS\nA,ADDED\n'), 25));
    const b1 = await deflateResultLines(raw('B,ADDED\n'));
    await a.commitBatch(await batchWith(b1, 33));
    // Again at the same place (a rerun's), even deflated otherwise: the first kept, nothing changes.
    const b1Again = { deflated: deflateRawSync(raw('B,ADDED\n'), { level: 0, finishFlush: constants.Z_SYNC_FLUSH }), rawBytes: 8, crc: crc32(raw('B,ADDED\n')) };
    expect(Buffer.from(b1Again.deflated).equals(Buffer.from(b1.deflated))).toBe(false);
    await a.commitBatch({ ...(await batchWith(b1Again, 33)), inserts: recordRows([]) });
    // No lines (a batch of none): nothing kept, and nothing in the way of the next lines.
    await a.commitBatch({ ...(await batchWith(await deflateResultLines(Buffer.alloc(0)), 33)), inserts: recordRows([]) });
    // Past RESULT_PIECE_BYTES raw: deflated lines stay one part.
    const long = `${'é'.repeat(2_100_000)}\n`;
    const end = 33 + Buffer.byteLength(long);
    await a.commitBatch(await batchWith(await deflateResultLines(raw(long)), end));
    const parts: ResultPart[] = [];
    for await (const part of b.readResult(jobId, 0, end)) parts.push(part);
    expect(parts.map((p) => (p instanceof Uint8Array ? 'raw' : 'deflated'))).toEqual(['raw', 'deflated', 'deflated']);
    expect(parts[1]).toMatchObject({ rawBytes: 8, crc: crc32(raw('B,ADDED\n')) });
    expect(Buffer.from((parts[1] as DeflatedLines).deflated).equals(Buffer.from(b1.deflated))).toBe(true);
    expect(parts.map((p) => partBytes(p).toString('utf8')).join('')).toBe(`Last_Name,STATUS\nA,ADDED\nB,ADDED\n${long}`);
    await expect(resultOf(b, jobId, end + 1)).rejects.toThrow(`result lines from byte ${end} are missing (the checkpoint counts ${end + 1})`);

    // Deflated lines committed where no lines precede them: the gap is found in bytes of the CSV.
    const other = await claimedJob();
    const batch = await aBatch(a, org, other, 'worker-a', 1);
    await a.commitBatch({ ...batch, resultLines: b1, progress: { ...batch.progress, resultBytes: 33 } });
    await expect(resultOf(a, other, 33)).rejects.toThrow('result lines from byte 0 are missing (the next kept ones start at byte 25)');
  });

  it('refuses a batch that does not continue from the checkpoint, keeping nothing of it', async () => {
    const jobId = await claimedJob();
    const line = (s: string): Uint8Array => new TextEncoder().encode(s);
    const first = await aBatch(a, org, jobId, 'worker-a', 1);
    await a.commitBatch({ ...first, resultLines: line('H\nA\n'), continues: 0, progress: { ...first.progress, rowsDone: 1, resultBytes: 4 } });
    // Sent while the batch before it (bytes 4-6) was committing; that one never committed.
    const third = await aBatch(a, org, jobId, 'worker-a', 1);
    const records = third.records.map((r) => ({ ...r, values: { ...r.values, Email: 'third@example.com' } }));
    await expect(
      a.commitBatch({ ...third, inserts: recordRows(records), resultLines: line('C\n'), continues: 6, progress: { ...third.progress, rowsDone: 3, resultBytes: 8 } }),
    ).rejects.toBeInstanceOf(CheckpointMovedError);
    expect(await b.countRecords(org.moduleId)).toBe(1);
    expect((await b.getJob(org.orgId, jobId))?.resources[0]?.progress).toMatchObject({ rowsDone: 1, resultBytes: 4 });
    expect((await resultOf(b, jobId, 4)).toString()).toBe('H\nA\n');
  });

  it("applies a job's batches in the order they are sent, the next sent before the one before it has committed", async () => {
    const jobId = await claimedJob();
    const sends = [];
    for (let i = 0; i < 4; i++) {
      const batch = await aBatch(a, org, jobId, 'worker-a', 2);
      const records = batch.records.map((r, k) => ({ ...r, values: { ...r.values, Email: `order${i}-${k}@example.com` } }));
      const lines = new TextEncoder().encode(`B${i}a\nB${i}b\n`);
      sends.push({ ...batch, inserts: recordRows(records), resultLines: lines, continues: i * 8, progress: { ...batch.progress, rowsDone: 2 * (i + 1), resultBytes: 8 * (i + 1) } });
    }
    await Promise.all(sends.map((s) => a.commitBatch(s)));
    expect((await b.getJob(org.orgId, jobId))?.resources[0]?.progress).toMatchObject({ rowsDone: 8, resultBytes: 32 });
    expect((await resultOf(b, jobId, 32)).toString()).toBe('B0a\nB0b\nB1a\nB1b\nB2a\nB2b\nB3a\nB3b\n');
    expect(await b.countRecords(org.moduleId)).toBe(8);
  });

  it('reads results again, whole, after reads stopped midway, as many of them as a pool has connections', async () => {
    const jobId = await claimedJob();
    const batch = await aBatch(a, org, jobId, 'worker-a', 1);
    const lines = Buffer.from(`${'x'.repeat(999)}\n`.repeat(9_000));
    await a.commitBatch({ ...batch, resultLines: lines, progress: { ...batch.progress, resultBytes: lines.length } });
    // More reads left midway than PostgreSQL's pool has connections (10): none may stay taken.
    for (let i = 0; i < 12; i++) {
      const stream = b.readResult(jobId, 0, lines.length);
      for await (const part of stream) {
        expect((part as Buffer).length).toBeGreaterThan(0);
        break;
      }
    }
    expect((await resultOf(b, jobId, lines.length)).equals(lines)).toBe(true);
    expect(await b.countRecords(org.moduleId)).toBe(1);
  });

  it('fails a result read at bytes its chunks do not hold', async () => {
    const jobId = await claimedJob();
    const batch = await aBatch(a, org, jobId, 'worker-a', 1);
    await a.commitBatch({ ...batch, resultLines: new TextEncoder().encode('B,ADDED\n'), progress: { ...batch.progress, resultBytes: 33 } });
    await expect(resultOf(a, jobId, 33)).rejects.toThrow('result lines from byte 0 are missing (the next kept ones start at byte 25)');
  });

  it('frees at once a job whose lease holder the claimer says has died, and fences the dead holder out', async () => {
    const [jobId] = (await a.allocateIds(1)) as [string];
    await a.createJob(aJob(org, jobId));
    const t0 = new Date();
    expect((await a.claimJob('worker-1-dead', 60_000, t0))?.id).toBe(jobId);
    expect(await b.claimJob('worker-b', 60_000, t0, { ownerGone: (owner) => owner === 'worker-2-other' })).toBeNull();
    expect((await b.claimJob('worker-b', 60_000, t0, { ownerGone: (owner) => owner === 'worker-1-dead' }))?.id).toBe(jobId);
    await expect(a.commitBatch(await aBatch(a, org, jobId, 'worker-1-dead', 1))).rejects.toBeInstanceOf(LeaseLostError);
  });

  it('creates the first org once when two processes set up an empty store together', async () => {
    const empty = await backend.create();
    const [x, y] = [await empty.open(), await empty.open()];
    try {
      const options = { orgName: 'First', adminName: 'Admin', adminEmail: 'admin@example.com', timeZone: 'UTC' };
      const setups = await Promise.all([x, y].map(({ store }) => new SetupService(store, new TokenService(store)).ensureOrg(options)));
      const orgs = await x.store.listOrgs();
      expect(orgs.map((o) => o.id)).toEqual([setups[0]?.org.id]);
      expect(setups[1]?.org.id).toBe(setups[0]?.org.id);
      expect(setups.filter((s) => s.token !== null)).toHaveLength(1);
    } finally {
      await x.store.close();
      await y.store.close();
      await empty.remove();
    }
  });

  it('records a callback with its job\'s end, only under the job\'s lease', async () => {
    const [jobId, deliveryId] = (await a.allocateIds(2)) as [string, string];
    await a.createJob(aJob(org, jobId));
    await a.claimJob('worker-a', 60_000, new Date());
    const end = (callbackId: string) => ({
      status: 'COMPLETED' as const, resultKey: null, failure: null, at: new Date(),
      callback: { id: callbackId, jobId, url: 'http://127.0.0.1:9/cb', body: '{"status":"COMPLETED"}', attempts: 0 },
    });
    await expect(b.finishResource(jobId, 'worker-b', 0, NEW_RESOURCE_PROGRESS, end('1'))).rejects.toBeInstanceOf(LeaseLostError);
    expect(await b.countPendingCallbacks()).toBe(0);
    await a.finishResource(jobId, 'worker-a', 0, NEW_RESOURCE_PROGRESS, end(deliveryId));
    expect((await b.getJob(org.orgId, jobId))?.status).toBe('COMPLETED');
    expect(await b.claimCallbacks({ owner: 'worker-b', until: new Date(Date.now() + 60_000) }, new Date(), 10)).toEqual([
      { id: deliveryId, jobId, url: 'http://127.0.0.1:9/cb', body: '{"status":"COMPLETED"}', attempts: 0 },
    ]);
  });

  it('gives each due callback attempt to exactly one of two claimers, and a retry once it is due', async () => {
    const jobIds = await a.allocateIds(6);
    const ids = await a.allocateIds(6);
    for (const [k, jobId] of jobIds.entries()) {
      await a.createJob(aJob(org, jobId, new Date(Date.UTC(2024, 0, 1, 0, 0, k))));
      await a.claimJob('worker-x', 60_000, new Date());
      const callback = { id: ids[k] as string, jobId, url: 'http://127.0.0.1:9/cb', body: '{}', attempts: 0 };
      await a.finishResource(jobId, 'worker-x', 0, NEW_RESOURCE_PROGRESS, { status: 'COMPLETED', resultKey: null, failure: null, at: new Date(), callback });
    }
    const t0 = Date.now();
    const at = (ms: number): Date => new Date(t0 + ms);
    const held = (owner: string, ms = 60_000) => ({ owner, until: at(ms) });
    const [byA, byB] = await Promise.all([a.claimCallbacks(held('worker-a'), at(0), 4), b.claimCallbacks(held('worker-b'), at(0), 4)]);
    expect([...byA, ...byB].map((d) => d.id).sort()).toEqual([...ids].sort());
    expect(await a.claimCallbacks(held('worker-a'), at(0), 10)).toEqual([]);

    const first = byA[0];
    if (!first) throw new Error('worker-a claimed nothing');
    await a.recordCallbackAttempt(first.id, 'worker-a', { delivered: false, failedForGood: false, error: 'HTTP 500', at: at(0), retryAt: at(1000) });
    expect(await b.claimCallbacks(held('worker-b', 90_000), at(500), 10)).toEqual([]);
    expect(await b.claimCallbacks(held('worker-b', 90_000), at(1500), 10)).toEqual([expect.objectContaining({ id: first.id, attempts: 1 })]);
    // The first holder's late report changes nothing: the delivery is b's now.
    await a.recordCallbackAttempt(first.id, 'worker-a', { delivered: true, failedForGood: false, error: null, at: at(1600), retryAt: null });
    expect(await a.countPendingCallbacks()).toBe(6);

    await b.releaseCallback(first.id, 'worker-b');
    expect((await a.claimCallbacks(held('worker-a', 90_000), at(1700), 10)).map((d) => d.id)).toEqual([first.id]);
    for (const d of [...byA, ...byB]) {
      const owner = byB.includes(d) ? 'worker-b' : 'worker-a';
      await a.recordCallbackAttempt(d.id, owner, { delivered: true, failedForGood: false, error: null, at: at(2000), retryAt: null });
    }
    expect(await b.countPendingCallbacks()).toBe(0);
  });

  it('commits records, counters and checkpoint together or not at all', async () => {
    const jobId = await claimedJob();
    const batch = await aBatch(a, org, jobId, 'worker-a', 2);
    // Emails that differ only in case collide on the unique field: the whole batch must roll back.
    const clashing = { ...batch, inserts: recordRows(batch.records.map((r, i) => ({ ...r, values: { ...r.values, Email: i === 0 ? 'same@example.com' : 'SAME@example.com' } }))) };
    await expect(a.commitBatch(clashing)).rejects.toBeInstanceOf(UniqueConflictError);
    expect(await a.countRecords(org.moduleId)).toBe(0);
    expect((await a.getJob(org.orgId, jobId))?.resources[0]?.progress).toEqual(NEW_RESOURCE_PROGRESS);

    await a.commitBatch(batch);
    expect(await a.countRecords(org.moduleId)).toBe(2);
    const progress: ResourceProgress | undefined = (await a.getJob(org.orgId, jobId))?.resources[0]?.progress;
    expect(progress).toEqual(batch.progress);
  });

  it('holds a unique field that another process adds to the module meanwhile in the batches committed after it', async () => {
    const jobId = await claimedJob();
    // Store a has the module's table in hand, as a commit thread has after a job's first batch.
    await a.commitBatch(await aBatch(a, org, jobId, 'worker-a', 1));
    await b.applySchema(org.orgId, { newModules: [], newFields: [{ moduleApiName: 'Leads', field: { apiName: 'Code', dataType: 'text', unique: true } }] });
    const next = await aBatch(a, org, jobId, 'worker-a', 2);
    const withCodes = (codes: readonly string[]): BatchCommit => ({
      ...next,
      inserts: recordRows(next.records.map((r, i) => ({ ...r, values: { ...r.values, Email: `coded${i}@example.com`, Code: codes[i] as string } }))),
    });
    // Codes that differ only in case collide, which only the new field's key column can tell.
    await expect(a.commitBatch(withCodes(['X1', 'x1']))).rejects.toBeInstanceOf(UniqueConflictError);
    await a.commitBatch(withCodes(['X1', 'Y2']));
    expect(await a.countRecords(org.moduleId)).toBe(3);
  });

  it('keeps every field type as written and finds unique and name fields ignoring case in any script', async () => {
    const jobId = await claimedJob();
    const batch = await aBatch(a, org, jobId, 'worker-a', 2);
    await a.commitBatch(batch);
    const first = batch.records[0];
    if (!first) throw new Error('no row');
    expect(await b.getRecord(org.moduleId, first.id)).toEqual({ id: first.id, values: expect.objectContaining(first.values) });
    const found = await b.findRecords(org.moduleId, 'Email', ['LEAD0@EXAMPLE.COM', 'nobody@example.com'], ['Email']);
    expect(found).toEqual([{ id: first.id, values: { Email: 'lead0@example.com' } }]);
    expect((await b.findRecords(org.moduleId, 'id', [first.id, 'not-an-id'], [])).map((r) => r.id)).toEqual([first.id]);
    // Keys, not values: folded from the key column of a unique text field, from the value otherwise.
    expect(await b.findKeys(org.moduleId, 'Email', ['LEAD0@EXAMPLE.COM', 'nobody@example.com'], ['Email', 'Score', 'Active', 'Amount'])).toEqual([
      { id: first.id, keys: { Email: 'lead0@example.com', Score: '0', Active: 'true', Amount: '12.5' } },
    ]);
    expect(await b.findKeys(org.moduleId, 'id', [first.id], ['Last_Name'])).toEqual([{ id: first.id, keys: { Last_Name: 'lead\t0\n"quoted" \\ back' } }]);
    // Keys that fold alike find their record once; an id that no record can have finds nothing.
    expect(await b.findKeys(org.moduleId, 'Email', ['lead0@example.com', 'LEAD0@example.com', 'nobody@example.com'], ['Email'])).toEqual([
      { id: first.id, keys: { Email: 'lead0@example.com' } },
    ]);
    expect(await b.findKeys(org.moduleId, 'id', [first.id, 'not-an-id', '99999999999999999999', first.id], [])).toEqual([{ id: first.id, keys: {} }]);
    const [accented] = (await a.allocateIds(1)) as [string];
    await a.commitBatch({ ...batch, inserts: recordRows([{ id: accented, values: { Last_Name: 'Émile', Email: 'élodie@example.com' } }]), updates: recordRows([]) });
    expect((await b.findRecords(org.moduleId, 'Email', ['ÉLODIE@EXAMPLE.COM'], [])).map((r) => r.id)).toEqual([accented]);
    expect((await b.findRecords(org.moduleId, 'Last_Name', ['éMILE'], [])).map((r) => r.id)).toEqual([accented]);
    // A module no lookup points at keeps no key for its name field, and still finds by name ignoring case.
    const other = await seedModule(a, org.orgId, 'Vendors');
    await a.commitBatch({ ...batch, moduleId: other, inserts: recordRows([{ id: accented, values: { Last_Name: 'Ærø Sørensen' } }]), updates: recordRows([]) });
    expect((await b.findRecords(other, 'Last_Name', ['ærø SØRENSEN'], [])).map((r) => r.id)).toEqual([accented]);
    const page = await b.listRecords(org.moduleId, {
      filter: { kind: 'condition', field: 'Score', operator: 'greater_than', values: ['0'] },
      page: 1, perPage: 10, sortBy: 'Email', sortOrder: 'desc',
    });
    expect(page.map((r) => r.values.Email)).toEqual(['lead1@example.com']);
    await a.commitBatch({ ...batch, inserts: recordRows([]), updates: recordRows([{ id: first.id, values: { Score: 7 } }, { id: first.id, values: { Score: 9 } }]) });
    expect((await b.getRecord(org.moduleId, first.id))?.values.Score).toBe(9);
  });

  it('inserts and updates records of a module with more columns than SQLite binds in one statement of 50 rows', async () => {
    const jobId = await claimedJob();
    const fields = Array.from({ length: 700 }, (_, i) => ({ apiName: `F${i}`, dataType: 'text' as const }));
    await a.applySchema(org.orgId, { newModules: [{ apiName: 'Wide', singularLabel: 'Wide', pluralLabel: 'Wide', fields: [{ apiName: 'Last_Name', dataType: 'text', isNameField: true }, ...fields] }], newFields: [] });
    const wide = (await a.listModules(org.orgId)).find((m) => m.apiName === 'Wide')?.id as string;
    const ids = await a.allocateIds(120);
    const records = ids.map((id, r) => ({ id, values: Object.fromEntries([['Last_Name', `W${r}`], ...fields.map((f, i) => [f.apiName, `${r}.${i}`])]) }));
    const batch = await aBatch(a, org, jobId, 'worker-a', 0);
    await a.commitBatch({ ...batch, moduleId: wide, inserts: recordRows(records), updates: recordRows([]), progress: { ...batch.progress, rowsDone: 120 } });
    expect(await b.countRecords(wide)).toBe(120);
    expect((await b.getRecord(wide, ids[119] as string))?.values).toMatchObject({ Last_Name: 'W119', F0: '119.0', F699: '119.699' });
    const changed = records.map((r) => ({ id: r.id, values: Object.fromEntries(fields.map((f, i) => [f.apiName, `new ${i}`])) }));
    await a.commitBatch({ ...batch, moduleId: wide, inserts: recordRows([]), updates: recordRows(changed), progress: { ...batch.progress, rowsDone: 240 } });
    expect((await b.getRecord(wide, ids[0] as string))?.values).toMatchObject({ Last_Name: 'W0', F0: 'new 0', F699: 'new 699' });
  });

  it("stores each inserted row under its own id, whether a statement's ids follow one another or not", async () => {
    const jobId = await claimedJob();
    const ids = await a.allocateIds(220);
    // Statements of 50 rows: one run of consecutive ids; one with a gap; one descending; another run;
    // then 20 rows past the last full statement, one of them the id the gap left out.
    const chosen = [...ids.slice(0, 50), ...ids.slice(50, 75), ...ids.slice(76, 101), ...ids.slice(101, 151).reverse(), ...ids.slice(151, 220), ids[75] as string];
    const records = chosen.map((id, r) => ({ id, values: { Last_Name: `Row ${r}`, Email: `row${r}@example.com` } }));
    const batch = await aBatch(a, org, jobId, 'worker-a', 0);
    await a.commitBatch({ ...batch, inserts: recordRows(records), progress: { ...batch.progress, rowsDone: records.length } });
    expect(await b.countRecords(org.moduleId)).toBe(records.length);
    for (const [r, id] of chosen.entries()) {
      expect((await b.getRecord(org.moduleId, id))?.values).toMatchObject({ Last_Name: `Row ${r}`, Email: `row${r}@example.com` });
    }
  });

  it('updates records to values with quotes, backslashes, braces, commas, line breaks and the word NULL, as given', async () => {
    const jobId = await claimedJob();
    const batch = await aBatch(a, org, jobId, 'worker-a', 7);
    await a.commitBatch(batch);
    const names = ['say "hi"', 'back\\slash \\"', '{a,b}', 'NULL', '', "it's\ttab\nnew line\r", 'é ✓ 𝄞 '];
    const emails = ['Q"uote@example.com', 'back\\slash@example.com', '{brace}@example.com', 'NULL', 'comma,x@example.com', "o'neil@example.com", 'é@example.com'];
    const later = { Modified_Time: '2026-06-06T06:06:06+00:00', Modified_By: org.userId };
    const updates = recordRows(batch.records.map((r, i) => ({ id: r.id, values: { Last_Name: names[i] as string, Email: emails[i] as string, Amount: i === 3 ? null : i + 0.25 } })), later);
    await a.commitBatch({ ...batch, inserts: recordRows([]), updates });
    for (const [i, r] of batch.records.entries()) {
      expect((await b.getRecord(org.moduleId, r.id))?.values).toMatchObject({ Last_Name: names[i], Email: emails[i], Amount: i === 3 ? null : i + 0.25, ...later });
    }
    // The keys went with them: each is found ignoring case, and NULL is a value, not a null.
    expect((await b.findRecords(org.moduleId, 'Email', ['q"UOTE@example.com', 'null', '{BRACE}@example.com'], [])).map((r) => r.id).sort()).toEqual(
      [batch.records[0]?.id, batch.records[2]?.id, batch.records[3]?.id].sort(),
    );
  });

  it('applies a batch\'s updates as one row at a time would: a record written twice ends as its last row, and a freed unique value moves', async () => {
    const jobId = await claimedJob();
    const batch = await aBatch(a, org, jobId, 'worker-a', 30);
    await a.commitBatch(batch);
    const id = (k: number): string => (batch.records[k] as PlainRecord).id;
    const later = { Modified_Time: '2026-06-06T06:06:06+00:00', Modified_By: org.userId };
    const updates = recordRows(
      [
        ...batch.records.slice(0, 20).map((r, k) => ({ id: r.id, values: { Last_Name: `New ${k}`, Score: 100 + k } })),
        // Written again, giving the same columns: a round after the first.
        { id: id(3), values: { Last_Name: 'Three again', Score: 303 } },
        // Frees lead5@ for record 6, which takes it in the same batch.
        { id: id(5), values: { Email: 'moved@example.com' } },
        { id: id(6), values: { Email: 'LEAD5@example.com', Amount: null } },
        { id: id(3), values: { Active: true } },
        ...batch.records.slice(20, 25).map((r) => ({ id: r.id, values: { Amount: 99.5 } })),
      ],
      later,
    );
    await a.commitBatch({ ...batch, inserts: recordRows([]), updates, progress: { ...batch.progress, rowsDone: 60 }, continues: batch.progress.resultBytes });
    const values = async (k: number): Promise<Record<string, unknown> | undefined> => (await b.getRecord(org.moduleId, id(k)))?.values;
    expect(await values(3)).toMatchObject({ Last_Name: 'Three again', Score: 303, Active: true, Email: 'lead3@example.com', Amount: 12.5, ...later });
    expect(await values(0)).toMatchObject({ Last_Name: 'New 0', Score: 100, Active: true, ...later });
    expect(await values(6)).toMatchObject({ Last_Name: 'New 6', Email: 'LEAD5@example.com', Amount: null, Score: 106 });
    expect(await values(22)).toMatchObject({ Last_Name: batch.records[22]?.values.Last_Name, Score: 22, Amount: 99.5, ...later });
    expect(await values(27)).toMatchObject({ Score: 27, Amount: 12.5, Modified_Time: batch.records[27]?.values.Modified_Time });
    expect((await b.findRecords(org.moduleId, 'Email', ['lead5@example.com', 'moved@example.com', 'lead6@example.com'], [])).map((r) => r.id).sort()).toEqual([id(5), id(6)].sort());
  });

  it('applies updates alike when a batch carries more result bytes than one query takes', async () => {
    const jobId = await claimedJob();
    const batch = await aBatch(a, org, jobId, 'worker-a', 4);
    await a.commitBatch(batch);
    const lines = Buffer.alloc(1536 * 1024, 'x\n');
    const later = { Modified_Time: '2026-06-06T06:06:06+00:00', Modified_By: org.userId };
    const updates = recordRows(
      batch.records.map((r, k): PlainRecord => ({ id: r.id, values: k === 2 ? { Score: 7 } : { Last_Name: `Big ${k}`, Email: `BIG${k}@example.com` } })),
      later,
    );
    const at = batch.progress.resultBytes;
    await a.commitBatch({
      ...batch, inserts: recordRows([]), updates, resultLines: lines, continues: at,
      progress: { ...batch.progress, counts: { added: 4, updated: 4, skipped: 0 }, rowsDone: 8, resultBytes: at + lines.length },
    });
    for (const [k, r] of batch.records.entries()) {
      const expected = k === 2 ? { Score: 7, Last_Name: r.values.Last_Name, Email: r.values.Email } : { Last_Name: `Big ${k}`, Email: `BIG${k}@example.com`, Score: k };
      expect((await b.getRecord(org.moduleId, r.id))?.values).toMatchObject({ ...expected, ...later });
    }
    expect((await b.findRecords(org.moduleId, 'Email', ['big3@example.com'], [])).map((r) => r.id)).toEqual([batch.records[3]?.id]);
  });

  it('gives an insert that names no modification its creation: read, found, searched and sorted by it', async () => {
    const jobId = await claimedJob();
    const batch = await aBatch(a, org, jobId, 'worker-a', 4);
    const [x, y, z, w] = batch.records as [PlainRecord, PlainRecord, PlainRecord, PlainRecord];
    const bare = (r: PlainRecord): PlainRecord => ({ id: r.id, values: { Last_Name: r.values.Last_Name as string, Email: r.values.Email as string } });
    const created = { Created_Time: '2025-05-05T05:05:05+00:00', Created_By: org.userId };
    await a.commitBatch({ ...batch, inserts: recordRows([bare(x), bare(y), bare(z)], created) });
    // All four given, the modification the creation (as the batch processor sends them).
    const same = { ...created, Modified_Time: created.Created_Time, Modified_By: org.userId };
    await a.commitBatch({ ...batch, inserts: recordRows([bare(w)], same) });
    const modified = { Modified_Time: '2025-07-07T07:07:07+00:00', Modified_By: org.userId };
    await a.commitBatch({ ...batch, inserts: recordRows([]), updates: recordRows([{ id: z.id, values: { Score: 9 } }], modified, []) });

    for (const r of [x, w]) expect((await b.getRecord(org.moduleId, r.id))?.values).toMatchObject(same);
    expect((await b.getRecord(org.moduleId, z.id))?.values).toMatchObject({ ...created, ...modified });
    expect((await b.findRecords(org.moduleId, 'id', [y.id], ['Modified_Time', 'Modified_By']))[0]?.values).toMatchObject({ Modified_Time: created.Created_Time, Modified_By: org.userId });
    expect((await b.findRecords(org.moduleId, 'Modified_Time', [created.Created_Time], [])).map((r) => r.id).sort()).toEqual([x.id, y.id, w.id].sort());
    const query = (filter: RecordQuery['filter'], sortOrder: 'asc' | 'desc') => b.listRecords(org.moduleId, { filter, page: 1, perPage: 10, sortBy: 'Modified_Time', sortOrder });
    const where = (operator: 'equals' | 'not_equal' | 'between' | 'starts_with', ...values: string[]): RecordQuery['filter'] => ({ kind: 'condition', field: 'Modified_Time', operator, values });
    expect((await query(where('equals', created.Created_Time), 'asc')).map((r) => r.id)).toEqual([x.id, y.id, w.id]);
    expect((await query(where('not_equal', created.Created_Time), 'asc')).map((r) => r.id)).toEqual([z.id]);
    expect((await query(where('between', '2025-05-01', '2025-06-01'), 'asc')).map((r) => r.id)).toEqual([x.id, y.id, w.id]);
    expect((await query(where('starts_with', '2025-07'), 'asc')).map((r) => r.id)).toEqual([z.id]);
    expect((await query(null, 'desc')).map((r) => r.id)).toEqual([z.id, w.id, y.id, x.id]);
  });

  it('gives an insert that names no owner its creator: read, found, searched and sorted by it', async () => {
    const jobId = await claimedJob();
    const batch = await aBatch(a, org, jobId, 'worker-a', 5);
    const [x, y, z, w, v] = batch.records as [PlainRecord, PlainRecord, PlainRecord, PlainRecord, PlainRecord];
    const other = '9000000000000000001';
    const bare = (r: PlainRecord, owner?: string | null): PlainRecord => ({
      id: r.id, values: { Last_Name: r.values.Last_Name as string, Email: r.values.Email as string, ...(owner === undefined ? {} : { Owner: owner }) },
    });
    const created = { Created_Time: '2025-05-05T05:05:05+00:00', Created_By: org.userId };
    // No Owner at all; Owner as the rows' column, one row's null; Owner shared, the creator (as the
    // batch processor sends it when Owner is not mapped).
    await a.commitBatch({ ...batch, inserts: recordRows([bare(x)], created) });
    await a.commitBatch({ ...batch, inserts: recordRows([bare(y, null), bare(z, other)], created) });
    await a.commitBatch({ ...batch, inserts: recordRows([bare(w), bare(v)], { ...created, Owner: org.userId }) });
    const modified = { Modified_Time: '2025-07-07T07:07:07+00:00', Modified_By: org.userId };
    await a.commitBatch({ ...batch, inserts: recordRows([]), updates: recordRows([{ id: v.id, values: { Owner: other } }], modified, []) });

    const owners = async (ids: readonly string[]) => Promise.all(ids.map(async (id) => (await b.getRecord(org.moduleId, id))?.values.Owner));
    expect(await owners([x.id, y.id, z.id, w.id, v.id])).toEqual([org.userId, org.userId, other, org.userId, other]);
    expect((await b.findRecords(org.moduleId, 'id', [y.id], ['Owner']))[0]?.values).toEqual({ Owner: org.userId });
    expect((await b.findRecords(org.moduleId, 'Owner', [org.userId], [])).map((r) => r.id).sort()).toEqual([x.id, y.id, w.id].sort());
    const query = (filter: RecordQuery['filter']) => b.listRecords(org.moduleId, { filter, page: 1, perPage: 10, sortBy: 'Owner', sortOrder: 'desc' });
    const where = (operator: 'equals' | 'not_equal', value: string): RecordQuery['filter'] => ({ kind: 'condition', field: 'Owner', operator, values: [value] });
    // Descending: by owner, then by id.
    expect((await query(where('equals', org.userId))).map((r) => r.id)).toEqual([w.id, y.id, x.id]);
    expect((await query(where('not_equal', org.userId))).map((r) => r.id)).toEqual([v.id, z.id]);
    // The other user's id sorts after the creator's.
    expect((await query(null)).map((r) => r.id)).toEqual([v.id, z.id, w.id, y.id, x.id]);
  });

  it('writes shared values to every row, leaves what an update does not give, and keeps a kept key findable', async () => {
    const jobId = await claimedJob();
    const batch = await aBatch(a, org, jobId, 'worker-a', 2);
    const [x, y] = batch.records as [PlainRecord, PlainRecord];
    const shared = { Created_Time: '2025-05-05T05:05:05+00:00', Modified_Time: '2025-05-05T05:05:05+00:00', Created_By: org.userId, Modified_By: org.userId };
    const bare = batch.records.map((r) => ({ id: r.id, values: { Last_Name: r.values.Last_Name as string, Email: r.values.Email as string, Score: r.values.Score as number } }));
    await a.commitBatch({ ...batch, inserts: recordRows(bare, shared) });
    // No Owner given: a record's owner is its creator.
    expect((await b.getRecord(org.moduleId, x.id))?.values).toMatchObject({ ...shared, Email: 'lead0@example.com', Owner: org.userId, Amount: null });

    const later = { Modified_Time: '2026-06-06T06:06:06+00:00', Modified_By: org.userId };
    const updates = recordRows(
      [
        { id: x.id, values: { Email: 'LEAD0@Example.com', Score: 70 } },
        // Score undefined: left as it is; Email null: cleared, with its key.
        { id: y.id, values: { Email: null, Amount: 3.5 } },
      ],
      later,
      [],
    );
    await a.commitBatch({ ...batch, inserts: recordRows([]), updates: { ...updates, keptKeys: [] } });
    expect((await b.getRecord(org.moduleId, x.id))?.values).toMatchObject({ Email: 'LEAD0@Example.com', Score: 70, Amount: null, ...later, Created_Time: shared.Created_Time });
    expect((await b.getRecord(org.moduleId, y.id))?.values).toMatchObject({ Email: null, Score: 1, Amount: 3.5, ...later });
    expect((await b.findRecords(org.moduleId, 'Email', ['lead1@example.com'], [])).map((r) => r.id)).toEqual([]);
    // A kept key: the record's Email is respelt, its key (same fold) stays, and it is still found.
    await a.commitBatch({ ...batch, inserts: recordRows([]), updates: recordRows([{ id: x.id, values: { Email: 'Lead0@EXAMPLE.com' } }], later, ['Email']) });
    expect((await b.findRecords(org.moduleId, 'Email', ['lead0@example.com'], ['Email']))).toEqual([{ id: x.id, values: { Email: 'Lead0@EXAMPLE.com' } }]);
  });
});
