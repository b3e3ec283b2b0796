import { rawLength, type ResultPart } from '../ports/store.js';

/**
 * One row of a resource's result lines: `pos` is the byte offset of its first line in the
 * resource's result CSV; `data` holds the lines as they are (rawBytes and crc null) or deflated
 * (DeflatedLines: rawBytes is what they inflate to, crc its CRC-32).
 */
export interface ResultChunk {
  readonly pos: number;
  readonly data: Uint8Array;
  readonly rawBytes: number | null;
  readonly crc: number | null;
}

/** Chunks read per query: a batch's lines are ~100-300 KB raw, about an eighth of that deflated. */
export const RESULT_CHUNKS_PER_PAGE = 8;

/**
 * The most bytes one chunk row holds of raw lines: a commit's raw lines (a header, or a whole
 * result file moved in from an earlier version) are cut into pieces this size, well under either
 * database's limit on one value (1 GB). Deflated lines, a batch's, are kept whole.
 */
export const RESULT_PIECE_BYTES = 4 * 1024 * 1024;

/**
 * The rows that keep `part`, which ends at byte `end` of the result CSV. None for a part of no
 * bytes: its row would take the place of the next part's, which would then be dropped as a rerun's.
 */
export function resultPieces(part: ResultPart, end: number): ResultChunk[] {
  const length = rawLength(part);
  if (length === 0) return [];
  const start = end - length;
  if (!(part instanceof Uint8Array)) return [{ pos: start, data: part.deflated, rawBytes: part.rawBytes, crc: part.crc }];
  const out: ResultChunk[] = [];
  for (let at = 0; at < part.byteLength; at += RESULT_PIECE_BYTES) {
    out.push({ pos: start + at, data: part.subarray(at, Math.min(at + RESULT_PIECE_BYTES, part.byteLength)), rawBytes: null, crc: null });
  }
  return out;
}

/** How many bytes of the result CSV a chunk holds. */
const chunkLength = (c: ResultChunk): number => c.rawBytes ?? c.data.byteLength;

/** Chunks read a page at a time (`page(from)`: the chunks at byte `from` and after, in order). */
export async function* pagedChunks(page: (from: number) => Promise<readonly ResultChunk[]>): AsyncGenerator<ResultChunk> {
  let next = 0;
  for (;;) {
    const chunks = await page(next);
    if (chunks.length === 0) return;
    const from = next;
    for (const c of chunks) {
      yield c;
      next = c.pos + chunkLength(c);
    }
    // A page that does not move on would be asked for again forever (a row of no bytes, which
    // resultPieces never writes).
    if (next <= from) throw new Error(`the result chunks at byte ${from} hold no bytes`);
  }
}

/**
 * A resource's result CSV from its chunks, part by part in order. Chunks must follow each other
 * exactly and reach `bytes` (of the CSV); a gap or a short end fails the read. `done` runs once
 * the read ends, fails or is stopped.
 */
export async function* resultParts(chunks: AsyncIterable<ResultChunk>, bytes: number, done: () => void = () => undefined): AsyncGenerator<ResultPart> {
  try {
    let next = 0;
    for await (const c of chunks) {
      if (c.pos !== next) throw new Error(`result lines from byte ${next} are missing (the next kept ones start at byte ${c.pos})`);
      const data = Buffer.from(c.data.buffer, c.data.byteOffset, c.data.byteLength);
      if (c.rawBytes === null) yield data;
      else if (c.crc === null) throw new Error(`the deflated result lines at byte ${c.pos} have no CRC-32`);
      else yield { deflated: data, rawBytes: c.rawBytes, crc: c.crc };
      next += chunkLength(c);
    }
    if (next < bytes) throw new Error(`result lines from byte ${next} are missing (the checkpoint counts ${bytes})`);
  } finally {
    done();
  }
}
