import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import type pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PgBlobStore } from '../../src/blob/pg/pg-blob-store.js';
import { buildConfig } from '../../src/config.js';
import { BlobTooLargeError, type BlobStore } from '../../src/ports/blob-store.js';
import type { Store } from '../../src/ports/store.js';
import { openStores } from '../../src/server.js';
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

describe('PgBlobStore, chunk inserts', () => {
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

  it('waits for the chunk inserts in flight when a write fails midway, then keeps nothing of the blob', async () => {
    let inserts = 0;
    // Chunk 1 lands at once, chunk 2 takes 300 ms, chunk 3 fails: chunk 2 is still in flight when
    // the failure is seen, and would land after a cleanup that did not wait for it.
    const failing = {
      query: (text: string, values?: unknown[]) => {
        if (!text.startsWith('INSERT INTO blob_chunks')) return pool.query(text, values);
        const n = ++inserts;
        if (n === 3) return Promise.reject(new Error('disk full'));
        return new Promise((resolve) => setTimeout(resolve, n === 2 ? 300 : 0)).then(() => pool.query(text, values));
      },
      connect: () => pool.connect(),
    } as unknown as pg.Pool;
    const parts = Array.from({ length: 8 }, () => randomBytes(1024 * 1024));
    await expect(new PgBlobStore(failing).write('uploads/broken.zip', Readable.from(parts))).rejects.toThrow('disk full');
    expect(inserts).toBe(3);
    // Past the time chunk 2 would have landed, had the write not waited for it.
    await new Promise((resolve) => setTimeout(resolve, 400));
    const { rows } = await pool.query<{ chunks: string; blobs: string }>('SELECT (SELECT count(*) FROM blob_chunks) AS chunks, (SELECT count(*) FROM blobs) AS blobs');
    expect(rows[0]).toEqual({ chunks: '0', blobs: '0' });
  });

  it('inserts two chunks at once, and one at a time while others wait for the pool', async () => {
    const parts = Array.from({ length: 6 }, () => randomBytes(1024 * 1024));
    for (const [waiting, expected] of [[0, 2], [3, 1]] as const) {
      let running = 0;
      let most = 0;
      const counting = {
        get waitingCount() {
          return waiting;
        },
        query: async (text: string, values?: unknown[]) => {
          if (!text.startsWith('INSERT INTO blob_chunks')) return pool.query(text, values);
          most = Math.max(most, ++running);
          try {
            await new Promise((resolve) => setTimeout(resolve, 20));
            return await pool.query(text, values);
          } finally {
            running--;
          }
        },
        connect: () => pool.connect(),
      } as unknown as pg.Pool;
      const blobs = new PgBlobStore(counting);
      await blobs.write(`uploads/waiting-${waiting}.zip`, Readable.from(parts));
      expect(most).toBe(expected);
      expect((await readAll(blobs.createReadStream(`uploads/waiting-${waiting}.zip`))).equals(Buffer.concat(parts))).toBe(true);
    }
  });
});
