import { createHash, randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type pg from 'pg';
import { BlobShorterError, BlobTooLargeError, type BlobAppender, type BlobStore, type BlobWriteResult } from '../../ports/blob-store.js';
import { withTransaction } from '../../store/postgres/pg-pool.js';
import { PgBlobReader } from './pg-blob-reader.js';

/** Size of the rows a blob is cut into: few rows per upload, bounded memory per write. */
const CHUNK_BYTES = 1024 * 1024;
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
   * held while a slow client uploads), then renames it into place in one short transaction.
   */
  async write(key: string, source: Readable, maxBytes = Number.MAX_SAFE_INTEGER): Promise<BlobWriteResult> {
    const temp = `${TEMP_PREFIX}${randomUUID()}`;
    const hash = createHash('sha256');
    let size = 0;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const flush = async (): Promise<void> => {
      if (pendingBytes === 0) return;
      const data = Buffer.concat(pending, pendingBytes);
      await this.pool.query('INSERT INTO blob_chunks (key, pos, data) VALUES ($1, $2, $3)', [temp, size - pendingBytes, data]);
      pending = [];
      pendingBytes = 0;
    };
    await this.pool.query('INSERT INTO blobs (key) VALUES ($1)', [temp]);
    try {
      for await (const chunk of source as AsyncIterable<Buffer | string>) {
        const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        size += buf.length;
        if (size > maxBytes) throw new BlobTooLargeError(maxBytes);
        hash.update(buf);
        pending.push(buf);
        pendingBytes += buf.length;
        if (pendingBytes >= CHUNK_BYTES) await flush();
      }
      await flush();
      await withTransaction(this.pool, async (c) => {
        await c.query('DELETE FROM blob_chunks WHERE key = $1', [key]);
        await c.query('DELETE FROM blobs WHERE key = $1', [key]);
        await c.query('UPDATE blob_chunks SET key = $1 WHERE key = $2', [key, temp]);
        await c.query('UPDATE blobs SET key = $1, created_at = now() WHERE key = $2', [key, temp]);
      });
    } catch (e) {
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

  /**
   * Cuts the blob back to `truncateTo` (zero-filling up to it when shorter, as ftruncate does) and
   * takes a new generation: an appender opened earlier, say by a worker whose lease expired while
   * it stalled, can no longer add a byte, so it cannot interleave lines into the resumed file.
   */
  async openAppender(key: string, truncateTo: number): Promise<BlobAppender> {
    const generation = await withTransaction(this.pool, async (c) => {
      const { rows } = await c.query<{ generation: string }>(
        `INSERT INTO blobs (key) VALUES ($1) ON CONFLICT (key) DO UPDATE SET generation = blobs.generation + 1 RETURNING generation`,
        [key],
      );
      await c.query('DELETE FROM blob_chunks WHERE key = $1 AND pos >= $2', [key, truncateTo]);
      await c.query(
        'UPDATE blob_chunks SET data = substring(data FROM 1 FOR ($2::bigint - pos)::int) WHERE key = $1 AND pos < $2 AND pos + length(data) > $2',
        [key, truncateTo],
      );
      const end = await c.query<{ end: string }>(
        'SELECT coalesce(max(pos + length(data)), 0) AS end FROM blob_chunks WHERE key = $1',
        [key],
      );
      const current = Number(end.rows[0]?.end ?? 0);
      if (current < truncateTo) throw new BlobShorterError(key, current, truncateTo);
      return String(rows[0]?.generation);
    });
    return new PgAppender(this.pool, key, generation, truncateTo);
  }
}

async function insertPieces(c: pg.PoolClient, key: string, at: number, data: Buffer): Promise<void> {
  for (let off = 0; off < data.length; off += CHUNK_BYTES) {
    await c.query('INSERT INTO blob_chunks (key, pos, data) VALUES ($1, $2, $3)', [key, at + off, data.subarray(off, off + CHUNK_BYTES)]);
  }
}

/** Thrown by an appender whose blob was reopened since (see openAppender). */
export class BlobReopenedError extends Error {
  constructor(key: string) {
    super(`blob ${key} was reopened by another appender; this one may write no more`);
    this.name = 'BlobReopenedError';
  }
}

class PgAppender implements BlobAppender {
  constructor(
    private readonly pool: pg.Pool,
    private readonly key: string,
    private readonly generation: string,
    private bytes: number,
  ) {}

  get size(): number {
    return this.bytes;
  }

  /** Each append commits (synchronously) before it returns: nothing is left to make durable. */
  async sync(): Promise<void> {}

  /** Durable when it returns, so a checkpoint committed after it never points past the data. */
  async append(chunk: Buffer): Promise<void> {
    if (chunk.length === 0) return;
    await withTransaction(this.pool, async (c) => {
      // Also locks the blob row: appends of one blob go one at a time.
      const held = await c.query('UPDATE blobs SET generation = generation WHERE key = $1 AND generation = $2', [this.key, this.generation]);
      if (held.rowCount !== 1) throw new BlobReopenedError(this.key);
      await insertPieces(c, this.key, this.bytes, chunk);
    });
    this.bytes += chunk.length;
  }

  async close(): Promise<void> {
    // Nothing is held between appends.
  }
}
