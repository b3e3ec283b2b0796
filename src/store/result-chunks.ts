import { Readable } from 'node:stream';

/** One committed batch's result lines: `pos` is their byte offset in the resource's result CSV. */
export interface ResultChunk {
  readonly pos: number;
  readonly data: Uint8Array;
}

/** Chunks read per query: a batch's lines are ~100-300 KB. */
export const RESULT_CHUNKS_PER_PAGE = 8;

/**
 * A resource's result CSV from its chunks, read a page at a time (`page(from)`: the chunks at
 * byte `from` and after, in order). Chunks must follow each other exactly; a gap fails the stream.
 * `done` runs once the stream ends, fails or is destroyed.
 */
export function resultStream(page: (from: number) => Promise<readonly ResultChunk[]>, done: () => void = () => undefined): Readable {
  async function* bytes(): AsyncGenerator<Buffer> {
    try {
      let next = 0;
      for (;;) {
        const chunks = await page(next);
        if (chunks.length === 0) return;
        for (const c of chunks) {
          if (c.pos !== next) throw new Error(`result lines from byte ${next} are missing (the next kept ones start at byte ${c.pos})`);
          yield Buffer.from(c.data.buffer, c.data.byteOffset, c.data.byteLength);
          next += c.data.byteLength;
        }
      }
    } finally {
      done();
    }
  }
  return Readable.from(bytes(), { objectMode: false });
}
