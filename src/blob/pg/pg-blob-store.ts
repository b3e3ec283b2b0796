import { createHash, randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type pg from 'pg';
import { BlobTooLargeError, type BlobStore, type BlobWriteResult } from '../../ports/blob-store.js';
import { withTransaction } from '../../store/postgres/pg-pool.js';
import { PgBlobReader } from './pg-blob-reader.js';

/** Size of the rows a blob is cut into: few rows per upload, bounded memory per write. */
const CHUNK_BYTES = 1024 * 1024;
/**
 * Chunk inserts of one write that may run at once, each on a connection of its own: PostgreSQL
 * spends ~25 ms of CPU per 1 MB chunk (TOAST rows and their WAL), and with one at a time the
 * upload waited for each while a core sat idle. One at a time again while others wait for the
 * pool: uploads must not hold its connections from the requests behind them.
 */
const INSERTS_IN_FLIGHT = 2;
/** Writes in progress live under this prefix until they are renamed into place. */
const TEMP_PREFIX = 'tmp/';

/**
 * Blobs in PostgreSQL itself (docs/architecture.md "Blobs"), so that every node that reaches the
 * database reads every upload and result: rows of `blob_chunks` holding contiguous byte ranges.
 * Tables come with the store's migrations (store/postgres/migrations.ts).
 */
export class PgBlobStore implements BlobStore {
  constructor(private readonly pool: pg.Pool) {}

  /** Drops writes that a crashed process left half done (older than a day, so none in progress). */
  async sweepAbandonedWrites(): Promise<void> {
    await withTransaction(this.pool, async (c) => {
      const { rows } = await c.query<{ key: string }>(
        "DELETE FROM blobs WHERE key LIKE 'tmp/%' AND created_at < now() - interval '1 day' RETURNING key",
      );
      if (rows.length > 0) await c.query('DELETE FROM blob_chunks WHERE key = ANY($1::text[])', [rows.map((r) => r.key)]);
    });
  }

  /**
   * Streams into a temporary key, one autocommitted row per chunk (no transaction or connection is
   * held while a slow client uploads), then renames it into place in one short transaction. Up to
   * INSERTS_IN_FLIGHT chunks are inserted at once, and the next is read meanwhile.
   */
  async write(key: string, source: Readable, maxBytes = Number.MAX_SAFE_INTEGER): Promise<BlobWriteResult> {
    const temp = `${TEMP_PREFIX}${randomUUID()}`;
    const hash = createHash('sha256');
    let size = 0;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    // Inserts never reject: the first failure is kept and thrown where the write waits, so that
    // none goes unhandled while the source is read, and none outlives the cleanup below.
    const inFlight = new Set<Promise<void>>();
    let failure: { error: unknown } | null = null;
    const throwFailure = (): void => {
      if (failure) throw failure.error;
    };
    const flush = async (): Promise<void> => {
      if (pendingBytes === 0) return;
      const data = Buffer.concat(pending, pendingBytes);
      const pos = size - pendingBytes;
      pending = [];
      pendingBytes = 0;
      const insert: Promise<void> = this.pool.query('INSERT INTO blob_chunks (key, pos, data) VALUES ($1, $2, $3)', [temp, pos, data]).then(
        () => { inFlight.delete(insert); },
        (e: unknown) => {
          inFlight.delete(insert);
          failure ??= { error: e };
        },
      );
      inFlight.add(insert);
      while (inFlight.size >= (this.pool.waitingCount > 0 ? 1 : INSERTS_IN_FLIGHT)) await Promise.race(inFlight);
      throwFailure();
    };
    await this.pool.query('INSERT INTO blobs (key) VALUES ($1)', [temp]);
    try {
      for await (const chunk of source as AsyncIterable<Buffer | string>) {
        throwFailure();
        const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        size += buf.length;
        if (size > maxBytes) throw new BlobTooLargeError(maxBytes);
        hash.update(buf);
        pending.push(buf);
        pendingBytes += buf.length;
        if (pendingBytes >= CHUNK_BYTES) await flush();
      }
      await flush();
      await Promise.all(inFlight);
      throwFailure();
      await withTransaction(this.pool, async (c) => {
        await c.query('DELETE FROM blob_chunks WHERE key = $1', [key]);
        await c.query('DELETE FROM blobs WHERE key = $1', [key]);
        await c.query('UPDATE blob_chunks SET key = $1 WHERE key = $2', [key, temp]);
        await c.query('UPDATE blobs SET key = $1, created_at = now() WHERE key = $2', [key, temp]);
      });
    } catch (e) {
      await Promise.all(inFlight);
      await this.delete(temp).catch(() => undefined);
      throw e;
    }
    return { size, sha256: hash.digest('hex') };
  }

  createReadStream(key: string, range?: { start: number; end: number }): Readable {
    return new PgBlobReader(this.pool, key, range);
  }

  async size(key: string): Promise<number | null> {
    const { rows } = await this.pool.query<{ size: string | null }>(
      `SELECT (SELECT c.pos + length(c.data) FROM blob_chunks c WHERE c.key = b.key ORDER BY c.pos DESC LIMIT 1) AS size
       FROM blobs b WHERE b.key = $1`,
      [key],
    );
    const row = rows[0];
    return row ? Number(row.size ?? 0) : null;
  }

  async delete(key: string): Promise<void> {
    await withTransaction(this.pool, async (c) => {
      await c.query('DELETE FROM blob_chunks WHERE key = $1', [key]);
      await c.query('DELETE FROM blobs WHERE key = $1', [key]);
    });
  }
}
