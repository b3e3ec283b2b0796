import { Readable } from 'node:stream';
import pg from 'pg';
import { copyOut } from '../../store/postgres/copy-binary.js';

const { escapeLiteral } = pg;

/**
 * The most bytes a row of `blob_pieces` holds: with its row header, the generation and the
 * position, one piece fills most of one 8 KB page and never leaves it (the column's storage is
 * PLAIN: no compression, no TOAST). Migration 8 cut earlier blobs to the same size.
 */
export const PIECE_BYTES = 8000;
/** Bytes fetched per query: large enough for few round trips, small enough to stream. */
const READ_BYTES = 128 * PIECE_BYTES;

/** Thrown (emitted) when the blob does not exist, with the code fs gives a missing file. */
export class BlobNotFoundError extends Error {
  readonly code = 'ENOENT';
  constructor(key: string) {
    super(`blob ${key} does not exist`);
    this.name = 'BlobNotFoundError';
  }
}

/**
 * Streams bytes [start, end] (inclusive, like fs.createReadStream) of a blob (pg-blob-store.ts):
 * each read asks for the pieces that hold the next READ_BYTES and keeps the bytes it needs of them,
 * so yauzl's many small ranged reads of a zip fetch a piece or two each. The first read finds the
 * blob's generation by its key; the reads after it stay on that generation, so a blob replaced
 * or deleted midway fails the read instead of mixing two versions or ending it short.
 */
export class PgBlobReader extends Readable {
  private pos: number;
  private readonly end: number;
  private generation: bigint | null = null;
  /** A read found fewer bytes than it asked for: the blob ends there (a COPY sees all of a generation or none). */
  private ended = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly key: string,
    range?: { start: number; end: number },
  ) {
    // Room for two reads: the next is fetched while the reader works through the last (with the
    // default 16 KB, each 1 MB was asked for only once the one before was used up).
    super({ highWaterMark: 2 * READ_BYTES });
    this.pos = range?.start ?? 0;
    this.end = range?.end ?? Number.MAX_SAFE_INTEGER;
  }

  override _read(): void {
    this.fetch().then(
      (part) => {
        if (part === null) this.push(null);
        else this.push(part);
      },
      (e: unknown) => this.destroy(e instanceof Error ? e : new Error(String(e))),
    );
  }

  /**
   * The next bytes, by a binary `COPY (SELECT …) TO STDOUT` on a connection held for that read
   * only (copyOut): a query's bytea arrives as hex text twice its size, decoded again into bytes.
   * Positions are integers and the key a quoted literal.
   */
  private async fetch(): Promise<Buffer | null> {
    if (this.pos > this.end || this.ended) return null;
    const last = Math.min(this.pos + READ_BYTES - 1, this.end);
    const generation = this.generation === null ? `(SELECT generation FROM blobs WHERE key = ${escapeLiteral(this.key)})` : `${this.generation}`;
    const query = `SELECT generation, pos, data FROM blob_pieces
      WHERE generation = ${generation} AND pos > ${this.pos - PIECE_BYTES}::bigint AND pos <= ${last}::bigint ORDER BY pos`;
    const parts: Buffer[] = [];
    let next = this.pos;
    for await (const [gen, at, data] of copyOut(this.pool, query)) {
      this.generation ??= (gen as Buffer).readBigInt64BE(0);
      const pos = Number((at as Buffer).readBigInt64BE(0));
      const bytes = data as Buffer;
      const from = Math.max(next - pos, 0);
      const to = Math.min(last + 1 - pos, bytes.length);
      if (to <= from) continue;
      if (pos + from !== next) throw new Error(`blob ${this.key} has no bytes at ${next}`);
      parts.push(bytes.subarray(from, to));
      next = pos + to;
    }
    if (parts.length === 0) {
      await this.checkNothingMore();
      return null;
    }
    this.ended = next <= last;
    this.pos = next;
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
  }

  /**
   * A read that found no bytes: the blob's end (or an empty blob, or a range past its end), or
   * a blob that is missing, or one replaced or deleted since this stream's first read.
   */
  private async checkNothingMore(): Promise<void> {
    if (this.generation === null) {
      const { rows } = await this.pool.query<{ generation: string }>('SELECT generation FROM blobs WHERE key = $1', [this.key]);
      const row = rows[0];
      if (!row) throw new BlobNotFoundError(this.key);
      this.generation = BigInt(row.generation);
      return;
    }
    const { rowCount } = await this.pool.query('SELECT 1 FROM blobs WHERE generation = $1', [this.generation.toString()]);
    if (rowCount === 0) throw new Error(`blob ${this.key} was replaced or deleted while it was read`);
  }
}
