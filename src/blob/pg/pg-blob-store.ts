import { createHash, randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type pg from 'pg';
import { BlobTooLargeError, type BlobStore, type BlobWriteResult } from '../../ports/blob-store.js';
import { binaryCopyOfChunks } from '../../store/postgres/copy-binary.js';
import { COPY_PIECE_BYTES, CopyPieces } from '../../store/postgres/copy-pieces.js';
import { runOneTrip } from '../../store/postgres/one-trip-query.js';
import { BEGIN_UNFLUSHED, withTransaction } from '../../store/postgres/pg-pool.js';
import { PgBlobReader, PIECE_BYTES } from './pg-blob-reader.js';

/** Pieces sent by one COPY (~1 MB): few statements per upload, bounded memory per write. */
const PIECES_PER_COPY = 128;
/**
 * COPYs of one write that may run at once, each on a connection of its own, so that PostgreSQL
 * stores one while the next is read from the client. One at a time while others wait for the
 * pool: uploads must not hold its connections from the requests behind them.
 */
const COPIES_IN_FLIGHT = 2;
/** Writes in progress live under this prefix until they are renamed into place. */
const TEMP_PREFIX = 'tmp/';
/**
 * Each COPY commits without waiting for its WAL to reach the disk: nothing reads a generation
 * until the write's last transaction gives it its key, and that one commits synchronously, which
 * flushes the WAL up to its own record, so every piece's with it (measured: the first write of the
 * bench's 21.5 MB zip 12–16% faster here, a flush less per MB on any disk).
 */
const COPY_PIECES = `${BEGIN_UNFLUSHED}; COPY blob_pieces (generation, pos, data) FROM STDIN (FORMAT binary); COMMIT`;

/**
 * Blobs in PostgreSQL itself (docs/architecture.md "Blobs"), so that every node that reaches the
 * database reads every upload and result. A blob is a row of `blobs` naming a generation, and the
 * generation's bytes are rows of `blob_pieces` of PIECE_BYTES each (the last one shorter), stored
 * in line: a piece is one row in one page, with no TOAST table to cut it up, index and log again
 * (measured: half the time and PostgreSQL's CPU of 1 MB values stored out of line). Pieces belong
 * to a generation, not to a key, so that a finished write takes its key by changing one row of
 * `blobs`, without touching its data. Tables come with the store's migrations.
 */
export class PgBlobStore implements BlobStore {
  /** Buffers of the COPYs' data, used again once runOneTrip has sent them: three COPYs' worth are kept (two in flight, one being built). */
  private readonly buffers = new CopyPieces(3 * Math.ceil((PIECES_PER_COPY * PIECE_BYTES) / COPY_PIECE_BYTES));

  constructor(private readonly pool: pg.Pool) {}

  /** Drops writes that a crashed process left half done (older than a day, so none in progress). */
  async sweepAbandonedWrites(): Promise<void> {
    await this.pool.query(
      `WITH gone AS (DELETE FROM blobs WHERE key LIKE 'tmp/%' AND created_at < now() - interval '1 day' RETURNING generation)
       DELETE FROM blob_pieces WHERE generation IN (SELECT generation FROM gone)`,
    );
  }

  /**
   * Streams into a new generation (writeGeneration) by binary COPYs of ~1 MB, each its own
   * transaction: no transaction or connection is held while a slow client uploads. Up to
   * COPIES_IN_FLIGHT COPYs run at once, and the next is read meanwhile.
   */
  async write(key: string, source: Readable, maxBytes = Number.MAX_SAFE_INTEGER): Promise<BlobWriteResult> {
    const hash = createHash('sha256');
    let size = 0;
    await writeGeneration(this.pool, key, async (generation) => {
      /** Bytes read and not yet sent: less than a COPY's worth, or the part of a piece left over. */
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      // COPYs never reject: the first failure is kept and thrown where the write waits, so that
      // none goes unhandled while the source is read, and none outlives the cleanup.
      const inFlight = new Set<Promise<void>>();
      let failure: { error: unknown } | null = null;
      const throwFailure = (): void => {
        if (failure) throw failure.error;
      };
      /** Sends the pending bytes in whole pieces (all of them at the end), keeping the rest. */
      const flush = async (last: boolean): Promise<void> => {
        const whole = last ? pendingBytes : pendingBytes - (pendingBytes % PIECE_BYTES);
        if (whole === 0) return;
        const copy = binaryCopyOfChunks(generation, size - pendingBytes, pending, whole, PIECE_BYTES, this.buffers.take);
        pending = dropFront(pending, whole);
        pendingBytes -= whole;
        // Its own transaction, sent with its data in one round trip.
        const sent: Promise<void> = runOneTrip(this.pool, COPY_PIECES, [copy]).then(
          () => {
            inFlight.delete(sent);
            this.buffers.giveBack(copy);
          },
          (e: unknown) => {
            inFlight.delete(sent);
            this.buffers.giveBack(copy);
            failure ??= { error: e };
          },
        );
        inFlight.add(sent);
        while (inFlight.size >= (this.pool.waitingCount > 0 ? 1 : COPIES_IN_FLIGHT)) await Promise.race(inFlight);
        throwFailure();
      };
      try {
        for await (const chunk of source as AsyncIterable<Buffer | string>) {
          throwFailure();
          const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
          size += buf.length;
          if (size > maxBytes) throw new BlobTooLargeError(maxBytes);
          hash.update(buf);
          pending.push(buf);
          pendingBytes += buf.length;
          if (pendingBytes >= PIECES_PER_COPY * PIECE_BYTES) await flush(false);
        }
        if (pendingBytes > 0) await flush(true);
        await Promise.all(inFlight);
        throwFailure();
      } catch (e) {
        await Promise.all(inFlight);
        throw e;
      }
    });
    return { size, sha256: hash.digest('hex') };
  }

  createReadStream(key: string, range?: { start: number; end: number }): Readable {
    return new PgBlobReader(this.pool, key, range);
  }

  async size(key: string): Promise<number | null> {
    const { rows } = await this.pool.query<{ size: string | null }>(
      `SELECT (SELECT p.pos + length(p.data) FROM blob_pieces p WHERE p.generation = b.generation ORDER BY p.pos DESC LIMIT 1) AS size
       FROM blobs b WHERE b.key = $1`,
      [key],
    );
    const row = rows[0];
    return row ? Number(row.size ?? 0) : null;
  }

  async delete(key: string): Promise<void> {
    await dropBlob(this.pool, key);
  }
}

/** `chunks` without their first `bytes` bytes (the last chunk they end in cut, not copied). */
function dropFront(chunks: readonly Buffer[], bytes: number): Buffer[] {
  let left = bytes;
  for (let i = 0; i < chunks.length; i++) {
    const chunk = chunks[i] as Buffer;
    if (left < chunk.length) return [chunk.subarray(left), ...chunks.slice(i + 1)];
    left -= chunk.length;
  }
  return [];
}

/**
 * Writes blob `key` as a new generation whose pieces `fill` stores (PIECE_BYTES each, the last one
 * shorter), under a temporary key meanwhile, then gives it the key in one short transaction that
 * drops the generation the key had. A fill that fails leaves nothing behind. Also used by the
 * store, which joins a job's result zip from its result chunks in the same database.
 */
export async function writeGeneration(pool: pg.Pool, key: string, fill: (generation: bigint) => Promise<void>): Promise<void> {
  const temp = `${TEMP_PREFIX}${randomUUID()}`;
  const { rows } = await pool.query<{ generation: string }>(
    "INSERT INTO blobs (key, generation) VALUES ($1, nextval('blob_generations')) RETURNING generation",
    [temp],
  );
  try {
    await fill(BigInt((rows[0] as { generation: string }).generation));
    await withTransaction(pool, async (c) => {
      await dropBlob(c, key);
      await c.query('UPDATE blobs SET key = $1, created_at = now() WHERE key = $2', [key, temp]);
    });
  } catch (e) {
    await dropBlob(pool, temp).catch(() => undefined);
    throw e;
  }
}

/** Deletes a blob's row and its generation's pieces, in one statement. */
async function dropBlob(db: pg.Pool | pg.PoolClient, key: string): Promise<void> {
  await db.query(
    `WITH gone AS (DELETE FROM blobs WHERE key = $1 RETURNING generation)
     DELETE FROM blob_pieces WHERE generation IN (SELECT generation FROM gone)`,
    [key],
  );
}
