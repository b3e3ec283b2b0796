import { Readable } from 'node:stream';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildConfig } from '../../src/config.js';
import { deflateResultLines, writeResultZip } from '../../src/ingest/result-file.js';
import type { BlobStore } from '../../src/ports/blob-store.js';
import type { DeflatedLines, JoinedResultPart, ResultPart, Store } from '../../src/ports/store.js';
import { openStores } from '../../src/server.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { unzipEntries } from '../support/zip.js';
import { aBatch, aJob, seedOrg, type Seeded } from './store-builders.js';

/** PostgreSQL joins a job's result zip from its result chunks where they are (Store.writeJoinedResult). */
describe('PostgresStore: results joined in the database', () => {
  let db: TestDatabase;
  let store: Store;
  let blobs: BlobStore;
  let org: Seeded;
  let pool: pg.Pool;

  beforeEach(async () => {
    db = await createTestDatabase();
    ({ store, blobs } = await openStores(buildConfig({ databaseUrl: db.url }, {})));
    org = await seedOrg(store);
    pool = new pg.Pool({ connectionString: db.url, max: 1 });
  });

  afterEach(async () => {
    await pool.end();
    await store.close();
    await db.drop();
  });

  /** A claimed job of two resources whose result lines are `lines[i]`, each part committed as a batch: its id. */
  async function jobWithResults(lines: readonly (readonly ResultPart[])[]): Promise<string> {
    const [jobId] = (await store.allocateIds(1)) as [string];
    const job = aJob(org, jobId);
    await store.createJob({ ...job, resources: lines.map(() => job.resources[0] as (typeof job.resources)[number]) });
    await store.claimJob('worker-a', 60_000, new Date());
    for (const [resourceIndex, parts] of lines.entries()) {
      let end = 0;
      for (const part of parts) {
        const continues = end;
        end += part instanceof Uint8Array ? part.byteLength : part.rawBytes;
        const batch = await aBatch(store, org, jobId, 'worker-a', 0);
        // Each continuing the checkpoint, as a job's batches do: their chunks go as binary COPY data.
        await store.commitBatch({ ...batch, resourceIndex, resultLines: part, continues, progress: { ...batch.progress, resultBytes: end } });
      }
    }
    return jobId;
  }

  async function blobBytes(key: string, range?: { start: number; end: number }): Promise<Buffer> {
    const out: Buffer[] = [];
    for await (const c of blobs.createReadStream(key, range)) out.push(c as Buffer);
    return Buffer.concat(out);
  }

  /** Deflated lines, one part per string, of `n` bytes of (incompressible-ish) text each. */
  const deflated = (texts: readonly string[]): Promise<DeflatedLines[]> => Promise.all(texts.map((t) => deflateResultLines(Buffer.from(t))));
  const noise = (n: number, seed: number): string => Array.from({ length: n }, (_, i) => String.fromCharCode(33 + ((i * 7919 + seed * 104_729) % 89))).join('');

  it('lists the chunks without their data, and writes their data between given bytes, cut into pieces a blob read takes', async () => {
    const r0 = await deflated(['Last_Name,STATUS\n', `${noise(30_000, 1)}\n`, `${noise(9_000, 2)}\n`]);
    const r1 = await deflated([`${noise(20_000, 3)}\n`]);
    const jobId = await jobWithResults([r0, r1]);
    const index = await store.resultIndex?.(jobId, 0);
    let pos = 0;
    expect(index).toEqual(r0.map((d) => {
      const at = pos;
      pos += d.rawBytes;
      return { pos: at, storedBytes: d.deflated.byteLength, rawBytes: d.rawBytes, crc: d.crc };
    }));

    const head = Buffer.from('HEAD');
    const middle = Buffer.alloc(8_003, 7);
    const parts: JoinedResultPart[] = [head, { resourceIndex: 0 }, middle, { resourceIndex: 1 }, new Uint8Array(0), Buffer.from('END')];
    const expected = Buffer.concat([head, ...r0.map((d) => Buffer.from(d.deflated)), middle, ...r1.map((d) => Buffer.from(d.deflated)), Buffer.from('END')]);
    await store.writeJoinedResult?.('results/joined.zip', jobId, parts, expected.length);
    expect(await blobs.size('results/joined.zip')).toBe(expected.length);
    expect((await blobBytes('results/joined.zip')).equals(expected)).toBe(true);
    // Ranged reads find each piece by its position: every piece but the last one is full.
    for (const [start, end] of [[0, 0], [7_999, 8_000], [12_345, 30_000], [expected.length - 5, expected.length - 1]] as const) {
      expect((await blobBytes('results/joined.zip', { start, end })).equals(expected.subarray(start, end + 1))).toBe(true);
    }
    const { rows } = await pool.query<{ n: number }>(
      "SELECT length(p.data) AS n FROM blobs b JOIN blob_pieces p USING (generation) WHERE b.key = 'results/joined.zip' ORDER BY p.pos",
    );
    expect(rows.map((r) => r.n)).toEqual(Array.from({ length: Math.ceil(expected.length / 8_000) }, (_, i) => Math.min(8_000, expected.length - 8_000 * i)));
  });

  it('replaces the blob a key had; a join short of its bytes fails, leaving the old blob and nothing else', async () => {
    const jobId = await jobWithResults([await deflated(['A\n', 'B\n'])]);
    await blobs.write('results/r.zip', Readable.from([Buffer.from('an older version')]));
    const { rows: before } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM blob_pieces');
    await expect(store.writeJoinedResult?.('results/r.zip', jobId, [Buffer.from('x'), { resourceIndex: 0 }], 1_000)).rejects.toThrow(/not the 1000 expected/);
    expect((await blobBytes('results/r.zip')).toString()).toBe('an older version');
    const { rows: after } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM blob_pieces');
    expect(after).toEqual(before);
    expect((await pool.query("SELECT key FROM blobs WHERE key LIKE 'tmp/%'")).rows).toEqual([]);

    const index = (await store.resultIndex?.(jobId, 0)) ?? [];
    const bytes = 1 + index.reduce((n, c) => n + c.storedBytes, 0);
    await store.writeJoinedResult?.('results/r.zip', jobId, [Buffer.from('x'), { resourceIndex: 0 }], bytes);
    expect((await blobBytes('results/r.zip')).length).toBe(bytes);
  });

  it("writes the job's zip by joining when every chunk is deflated, by streaming when some are raw: the same zip either way", async () => {
    const lines = ['Last_Name,STATUS\n', 'A,ADDED\n', `${noise(12_000, 4)},ADDED\n`];
    const joinedJob = await jobWithResults([await deflated(lines)]);
    // An earlier version's job: its lines raw, which only the streamed zip deflates.
    const rawJob = await jobWithResults([lines.map((l) => Buffer.from(l))]);
    const size = Buffer.byteLength(lines.join(''));
    const entries = [{ name: 'Leads-leads.csv', size, resourceIndex: 0 }];
    // The store as the job runner sees it, counting the result reads that streaming makes.
    const streamedJobs: string[] = [];
    const watched = new Proxy(store, {
      get(target, name) {
        const value: unknown = Reflect.get(target, name);
        if (name === 'readResult') return (jobId: string, idx: number, bytes: number) => (streamedJobs.push(jobId), target.readResult(jobId, idx, bytes));
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    await writeResultZip(blobs, watched, joinedJob, 'results/joined.zip', entries);
    await writeResultZip(blobs, watched, rawJob, 'results/streamed.zip', entries);
    expect(streamedJobs).toEqual([rawJob]);
    for (const key of ['results/joined.zip', 'results/streamed.zip']) {
      const zipped = await unzipEntries(await blobBytes(key));
      expect([...zipped].map(([name, content]) => [name, content.toString()])).toEqual([['Leads-leads.csv', lines.join('')]]);
    }
  });
});
