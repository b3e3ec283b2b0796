import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import type pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PIECE_BYTES } from '../../src/blob/pg/pg-blob-reader.js';
import { PgBlobStore } from '../../src/blob/pg/pg-blob-store.js';
import { buildConfig } from '../../src/config.js';
import { BlobTooLargeError, type BlobStore } from '../../src/ports/blob-store.js';
import type { Store } from '../../src/ports/store.js';
import { openStores } from '../../src/server.js';
import { OneTripQuery } from '../../src/store/postgres/one-trip-query.js';
import { createPool } from '../../src/store/postgres/pg-pool.js';
import { createTestDatabase } from '../support/test-database.js';

/** The BlobStore port's promises, held by the data-dir files and by the PostgreSQL chunks alike. */
const backends: { name: string; open(): Promise<{ stores: { store: Store; blobs: BlobStore }; remove(): Promise<void> }> }[] = [
  {
    name: 'FsBlobStore',
    async open() {
      const dataDir = await mkdtemp(path.join(tmpdir(), 'bulkwright-blobs-'));
      return { stores: await openStores(buildConfig({ dataDir }, {})), remove: () => rm(dataDir, { recursive: true, force: true }) };
    },
  },
  {
    name: 'PgBlobStore',
    async open() {
      const db = await createTestDatabase();
      return { stores: await openStores(buildConfig({ databaseUrl: db.url }, {})), remove: () => db.drop() };
    },
  },
];

async function readAll(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s as AsyncIterable<Buffer>) parts.push(c);
  return Buffer.concat(parts);
}

describe.each(backends)('$name', (backend) => {
  let blobs: BlobStore;
  let store: Store;
  let remove: () => Promise<void>;

  beforeEach(async () => {
    const opened = await backend.open();
    ({ blobs, store } = opened.stores);
    remove = opened.remove;
  });

  afterEach(async () => {
    await store.close();
    await remove();
  });

  it('streams a large blob in and reads any range of it back', async () => {
    const data = randomBytes(2 * 1024 * 1024 + 12_345);
    const written = await blobs.write('uploads/big.zip', Readable.from([data.subarray(0, 70_000), data.subarray(70_000)]));
    expect(written).toEqual({ size: data.length, sha256: createHash('sha256').update(data).digest('hex') });
    expect(await blobs.size('uploads/big.zip')).toBe(data.length);
    expect((await readAll(blobs.createReadStream('uploads/big.zip'))).equals(data)).toBe(true);
    const [start, end] = [1024 * 1024 - 10, 2 * 1024 * 1024 + 10];
    expect((await readAll(blobs.createReadStream('uploads/big.zip', { start, end }))).equals(data.subarray(start, end + 1))).toBe(true);
    expect((await readAll(blobs.createReadStream('uploads/big.zip', { start: data.length - 3, end: data.length + 100 }))).equals(data.subarray(-3))).toBe(true);
  });

  it('writes a blob of many chunks and reads it back whole and across the chunks\' boundaries', async () => {
    // Each part fills a 1 MB chunk and starts the next: PostgreSQL writes several rows at once.
    const parts = Array.from({ length: 5 }, () => randomBytes(1024 * 1024 + 1));
    const data = Buffer.concat(parts);
    expect(await blobs.write('uploads/many.zip', Readable.from(parts))).toEqual({ size: data.length, sha256: createHash('sha256').update(data).digest('hex') });
    expect(await blobs.size('uploads/many.zip')).toBe(data.length);
    expect((await readAll(blobs.createReadStream('uploads/many.zip'))).equals(data)).toBe(true);
    for (const [start, end] of [[1024 * 1024 - 2, 1024 * 1024 + 2], [1024 * 1024 + 1, 3 * 1024 * 1024 + 5], [0, data.length - 1], [4 * 1024 * 1024, data.length + 9]] as const) {
      expect((await readAll(blobs.createReadStream('uploads/many.zip', { start, end }))).equals(data.subarray(start, end + 1))).toBe(true);
    }
  });

  it('replaces a blob whole, keeps an empty one, and forgets a deleted one', async () => {
    await blobs.write('uploads/a.zip', Readable.from([Buffer.from('first version')]));
    await blobs.write('uploads/a.zip', Readable.from([Buffer.from('second')]));
    expect((await readAll(blobs.createReadStream('uploads/a.zip'))).toString()).toBe('second');
    expect(await blobs.write('uploads/empty.zip', Readable.from([]))).toMatchObject({ size: 0 });
    expect(await blobs.size('uploads/empty.zip')).toBe(0);
    expect((await readAll(blobs.createReadStream('uploads/empty.zip'))).length).toBe(0);
    await blobs.delete('uploads/a.zip');
    expect(await blobs.size('uploads/a.zip')).toBeNull();
    await expect(readAll(blobs.createReadStream('uploads/a.zip'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('reads a blob whose key holds a quote, and reads whole after many reads left midway', async () => {
    const data = randomBytes(3 * 1024 * 1024);
    await blobs.write("uploads/o'brien \\ \"x\".zip", Readable.from([data]));
    for (let i = 0; i < 12; i++) {
      const stream = blobs.createReadStream("uploads/o'brien \\ \"x\".zip");
      for await (const first of stream as AsyncIterable<Buffer>) {
        expect(first.equals(data.subarray(0, first.length))).toBe(true);
        break;
      }
    }
    expect((await readAll(blobs.createReadStream("uploads/o'brien \\ \"x\".zip"))).equals(data)).toBe(true);
  });

  it('refuses a blob over maxBytes and keeps nothing of it', async () => {
    await expect(blobs.write('uploads/huge.zip', Readable.from([Buffer.alloc(600), Buffer.alloc(600)]), 1000)).rejects.toBeInstanceOf(BlobTooLargeError);
    expect(await blobs.size('uploads/huge.zip')).toBeNull();
  });
});

describe('PgBlobStore, pieces', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let store: Store;
  let pool: pg.Pool;

  beforeEach(async () => {
    db = await createTestDatabase();
    ({ store } = await openStores(buildConfig({ databaseUrl: db.url }, {})));
    pool = createPool(db.url);
  });

  afterEach(async () => {
    await pool.end();
    await store.close();
    await db.drop();
  });

  /** A pool whose connections hand each COPY of pieces to `copy` instead of running it; the rest passes through. */
  function interceptingCopies(copy: (run: () => void, query: OneTripQuery) => void, waitingCount = 0): pg.Pool {
    return {
      waitingCount,
      query: (text: string, values?: unknown[]) => pool.query(text, values),
      connect: async () => {
        const client = await pool.connect();
        return {
          query: (q: unknown, values?: unknown[]) => {
            if (!(q instanceof OneTripQuery && q.text.includes('COPY blob_pieces'))) return client.query(q as string, values);
            copy(() => void client.query(q as unknown as pg.QueryConfig), q);
            return q;
          },
          release: (e?: Error | boolean) => client.release(e),
        };
      },
    } as unknown as pg.Pool;
  }

  async function pieces(): Promise<{ generation: string; pos: string; length: number }[]> {
    const { rows } = await pool.query('SELECT generation, pos, length(data) AS length FROM blob_pieces ORDER BY generation, pos');
    return rows;
  }

  it('stores a blob as whole pieces of one generation, and drops the generation it replaces', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 777);
    // Parts that end mid-piece: a COPY sends whole pieces and keeps the rest for the next one.
    const parts = [data.subarray(0, 1_500_001), data.subarray(1_500_001, 2_999_999), data.subarray(2_999_999)];
    await blobsOf(pool).write('uploads/p.zip', Readable.from([Buffer.from('an older version')]));
    await blobsOf(pool).write('uploads/p.zip', Readable.from(parts));
    const rows = await pieces();
    expect(new Set(rows.map((r) => r.generation)).size).toBe(1);
    expect(rows).toHaveLength(Math.ceil(data.length / PIECE_BYTES));
    rows.forEach((r, i) => {
      expect(Number(r.pos)).toBe(i * PIECE_BYTES);
      expect(r.length).toBe(i < rows.length - 1 ? PIECE_BYTES : data.length % PIECE_BYTES);
    });
    const { rows: blobRows } = await pool.query('SELECT key, generation FROM blobs');
    expect(blobRows).toEqual([{ key: 'uploads/p.zip', generation: rows[0]?.generation }]);
  });

  it('fails a read whose blob is replaced or deleted midway, instead of mixing versions or ending short', async () => {
    const blobs = blobsOf(pool);
    for (const change of [(k: string) => blobs.write(k, Readable.from([randomBytes(4 * 1024 * 1024)])), (k: string) => blobs.delete(k)]) {
      const data = randomBytes(4 * 1024 * 1024);
      await blobs.write('uploads/r.zip', Readable.from([data]));
      const stream = blobs.createReadStream('uploads/r.zip');
      const read: Buffer[] = [];
      await expect(
        (async () => {
          for await (const part of stream as AsyncIterable<Buffer>) {
            if (read.length === 0) await change('uploads/r.zip');
            read.push(part);
          }
        })(),
      ).rejects.toThrow('replaced or deleted while it was read');
      const got = Buffer.concat(read);
      expect(got.equals(data.subarray(0, got.length))).toBe(true);
    }
  });

  it('waits for the COPYs in flight when a write fails midway, then keeps nothing of the blob', async () => {
    let copies = 0;
    // COPY 1 runs at once, COPY 2 after 300 ms, COPY 3 fails: COPY 2 is still in flight when the
    // failure is seen, and would land after a cleanup that did not wait for it.
    const failing = interceptingCopies((run, q) => {
      const n = ++copies;
      if (n === 3) q.handleError(new Error('disk full'));
      else setTimeout(run, n === 2 ? 300 : 0);
    });
    const parts = Array.from({ length: 8 }, () => randomBytes(1024 * 1024));
    await expect(new PgBlobStore(failing).write('uploads/broken.zip', Readable.from(parts))).rejects.toThrow('disk full');
    expect(copies).toBe(3);
    // Past the time COPY 2 would have landed, had the write not waited for it.
    await new Promise((resolve) => setTimeout(resolve, 400));
    const { rows } = await pool.query<{ pieces: string; blobs: string }>('SELECT (SELECT count(*) FROM blob_pieces) AS pieces, (SELECT count(*) FROM blobs) AS blobs');
    expect(rows[0]).toEqual({ pieces: '0', blobs: '0' });
  });

  it('runs two COPYs at once, and one at a time while others wait for the pool', async () => {
    const parts = Array.from({ length: 6 }, () => randomBytes(1024 * 1024));
    for (const [waiting, expected] of [[0, 2], [3, 1]] as const) {
      let running = 0;
      let most = 0;
      const counting = interceptingCopies((run, q) => {
        most = Math.max(most, ++running);
        const done = (): void => void running--;
        void q.done.then(done, done);
        setTimeout(run, 20);
      }, waiting);
      const blobs = new PgBlobStore(counting);
      await blobs.write(`uploads/waiting-${waiting}.zip`, Readable.from(parts));
      expect(most).toBe(expected);
      expect((await readAll(blobs.createReadStream(`uploads/waiting-${waiting}.zip`))).equals(Buffer.concat(parts))).toBe(true);
    }
  });
});

function blobsOf(pool: pg.Pool): PgBlobStore {
  return new PgBlobStore(pool);
}
