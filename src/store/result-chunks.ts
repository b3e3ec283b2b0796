import { Readable } from 'node:stream';

/** One committed batch's result lines: `pos` is their byte offset in the resource's result CSV. */
export interface ResultChunk {
  readonly pos: number;
  readonly data: Uint8Array;
}

/** Chunks read per query: a batch's lines are ~100-300 KB. */
export const RESULT_CHUNKS_PER_PAGE = 8;

/**
 * The most bytes one chunk row holds: a commit's lines (a batch's, or a whole result file moved
 * in from an earlier version) are cut into pieces this size, well under either database's limit
 * on one value (1 GB).
 */
export const RESULT_PIECE_BYTES = 4 * 1024 * 1024;

/** The rows that keep `lines`, which end at byte `end` of the result CSV. */
export function resultPieces(lines: Uint8Array, end: number): ResultChunk[] {
  const start = end - lines.byteLength;
  const out: ResultChunk[] = [];
  for (let at = 0; at < lines.byteLength; at += RESULT_PIECE_BYTES) {
    out.push({ pos: start + at, data: lines.subarray(at, Math.min(at + RESULT_PIECE_BYTES, lines.byteLength)) });
  }
  return out;
}

/** Chunks read a page at a time (`page(from)`: the chunks at byte `from` and after, in order). */
export async function* pagedChunks(page: (from: number) => Promise<readonly ResultChunk[]>): AsyncGenerator<ResultChunk> {
  let next = 0;
  for (;;) {
    const chunks = await page(next);
    if (chunks.length === 0) return;
    for (const c of chunks) {
      yield c;
      next = c.pos + c.data.byteLength;
    }
  }
}

/**
 * A resource's result CSV from its chunks, in order. Chunks must follow each other exactly and
 * reach `bytes`; a gap or a short end fails the stream. `done` runs once the stream ends, fails or
 * is destroyed.
 */
export function resultStream(chunks: AsyncIterable<ResultChunk>, bytes: number, done: () => void = () => undefined): Readable {
  async function* read(): AsyncGenerator<Buffer> {
    try {
      let next = 0;
      for await (const c of chunks) {
        if (c.pos !== next) throw new Error(`result lines from byte ${next} are missing (the next kept ones start at byte ${c.pos})`);
        yield Buffer.from(c.data.buffer, c.data.byteOffset, c.data.byteLength);
        next += c.data.byteLength;
      }
      if (next < bytes) throw new Error(`result lines from byte ${next} are missing (the checkpoint counts ${bytes})`);
    } finally {
      done();
    }
  }
  return Readable.from(read(), { objectMode: false });
}
