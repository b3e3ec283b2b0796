import { Readable } from 'node:stream';
import pg from 'pg';
import { copyOut } from '../../store/postgres/copy-binary.js';

const { escapeLiteral } = pg;

/** Bytes fetched per query: large enough for few round trips, small enough to stream. */
const READ_BYTES = 1024 * 1024;

/** Thrown (emitted) when the blob does not exist, with the code fs gives a missing file. */
export class BlobNotFoundError extends Error {
  readonly code = 'ENOENT';
  constructor(key: string) {
    super(`blob ${key} does not exist`);
    this.name = 'BlobNotFoundError';
  }
}

/**
 * Streams bytes [start, end] (inclusive, like fs.createReadStream) of a chunked blob. Each read
 * asks for the chunk that holds the next byte and takes only the slice it needs with substring(),
 * which on EXTERNAL storage fetches just those TOAST slices; yauzl's many small ranged reads of a
 * zip stay cheap.
 */
export class PgBlobReader extends Readable {
  private pos: number;
  private readonly end: number;
  private checkedExists = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly key: string,
    range?: { start: number; end: number },
  ) {
    // Room for two pieces: the next is fetched while the reader works through the last (with the
    // default 16 KB, each 1 MB piece was asked for only once the one before was used up).
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
   * One piece, by a binary `COPY (SELECT …) TO STDOUT` on a connection held for that piece only
   * (copyOut): a query's bytea arrives as hex text, a string twice the piece's size (past V8's
   * 128 KB, one that only a full GC frees), decoded again into bytes. The position and length are
   * integers, the key a quoted literal.
   */
  private async fetch(): Promise<Buffer | null> {
    if (this.pos > this.end) return null;
    const want = Math.min(READ_BYTES, this.end - this.pos + 1);
    let part: Buffer | null = null;
    const query = `SELECT substring(data FROM (${this.pos}::bigint - pos + 1)::int FOR ${want}) FROM blob_chunks
      WHERE key = ${escapeLiteral(this.key)} AND pos <= ${this.pos}::bigint ORDER BY pos DESC LIMIT 1`;
    for await (const [data] of copyOut(this.pool, query)) part = data ?? null;
    if (!this.checkedExists) {
      this.checkedExists = true;
      // An empty blob has no chunk: tell "empty" from "missing" once, on the first read.
      if (!part || part.length === 0) {
        const exists = await this.pool.query('SELECT 1 FROM blobs WHERE key = $1', [this.key]);
        if (exists.rowCount === 0) throw new BlobNotFoundError(this.key);
      }
    }
    if (!part || part.length === 0) return null;
    this.pos += part.length;
    return part;
  }
}
