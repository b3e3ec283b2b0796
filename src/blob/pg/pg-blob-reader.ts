import { Readable } from 'node:stream';
import type pg from 'pg';

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
    super();
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

  private async fetch(): Promise<Buffer | null> {
    if (this.pos > this.end) return null;
    const want = Math.min(READ_BYTES, this.end - this.pos + 1);
    const { rows } = await this.pool.query<{ part: Buffer }>(
      `SELECT substring(data FROM ($2::bigint - pos + 1)::int FOR $3::int) AS part
       FROM blob_chunks WHERE key = $1 AND pos <= $2::bigint ORDER BY pos DESC LIMIT 1`,
      [this.key, this.pos, want],
    );
    const part = rows[0]?.part;
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
