import { describe, expect, it } from 'vitest';
import { binaryCopyOfChunks, binaryCopyTuples } from '../../src/store/postgres/copy-binary.js';

/** A `COPY … (FORMAT binary)` stream of `tuples` (PostgreSQL's COPY docs, "Binary Format"). */
function copyStream(tuples: readonly (readonly (Buffer | null)[])[], extension = Buffer.alloc(0), trailer = true): Buffer {
  const parts: Buffer[] = [Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(4), Buffer.alloc(4), extension];
  parts[2]?.writeUInt32BE(extension.length);
  for (const fields of tuples) {
    const count = Buffer.alloc(2);
    count.writeInt16BE(fields.length);
    parts.push(count);
    for (const f of fields) {
      const length = Buffer.alloc(4);
      length.writeInt32BE(f === null ? -1 : f.length);
      parts.push(length, ...(f === null ? [] : [f]));
    }
  }
  if (trailer) parts.push(Buffer.from([0xff, 0xff]));
  return Buffer.concat(parts);
}

function int8(n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(n);
  return b;
}

async function* inChunks(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

async function tuplesOf(source: AsyncIterable<Buffer>): Promise<(string | null)[][]> {
  const out: (string | null)[][] = [];
  for await (const t of binaryCopyTuples(source)) out.push(t.map((f) => (f === null ? null : f.toString('hex'))));
  return out;
}

describe('binaryCopyTuples', () => {
  const tuples = [
    [int8(0n), Buffer.from('Last_Name,STATUS\n')],
    [int8(17n), Buffer.from([0x00, 0xff, 0x0a, 0x5c])],
    [int8(21n), null],
    [int8(21n), Buffer.alloc(0)],
  ];
  const expected = tuples.map((t) => t.map((f) => (f === null ? null : f.toString('hex'))));

  it('reads every tuple, its bytes as they are, NULL as null, wherever the stream is cut', async () => {
    const bytes = copyStream(tuples, Buffer.from('ext'));
    for (let size = 1; size <= bytes.length; size++) expect(await tuplesOf(inChunks(bytes, size))).toEqual(expected);
  });

  it('reads a stream of no tuple', async () => {
    expect(await tuplesOf(inChunks(copyStream([]), 5))).toEqual([]);
  });

  it('reads the source to its end after the trailer', async () => {
    let read = 0;
    async function* source(): AsyncGenerator<Buffer> {
      for (const c of [copyStream(tuples), Buffer.from('after')]) {
        read++;
        yield c;
      }
    }
    expect(await tuplesOf(source())).toEqual(expected);
    expect(read).toBe(2);
  });

  it('fails a stream that ends before its trailer, or midway through a tuple', async () => {
    await expect(tuplesOf(inChunks(copyStream(tuples, undefined, false), 7))).rejects.toThrow('the binary COPY stream ended before its trailer');
    const cut = copyStream(tuples);
    await expect(tuplesOf(inChunks(cut.subarray(0, cut.length - 9), 7))).rejects.toThrow('ended before its trailer');
  });

  it('fails a stream that is not binary COPY', async () => {
    await expect(tuplesOf(inChunks(Buffer.from('id\tname\n1\tx\n\\.\n'), 64))).rejects.toThrow('not a binary COPY stream');
  });
});

describe('binaryCopyOfChunks', () => {
  const data = Buffer.from(Array.from({ length: 70_001 }, (_, i) => (i * 31 + (i >> 7)) & 0xff));
  /** `data`'s first `bytes` bytes cut into chunks of the given sizes, cycling through them. */
  const chunked = (sizes: readonly number[]): Buffer[] => {
    const out: Buffer[] = [];
    for (let at = 0, i = 0; at < data.length; i++) {
      const n = sizes[i % sizes.length] as number;
      out.push(data.subarray(at, at + n));
      at += n;
    }
    return out;
  };

  it.each([
    ['one chunk', [70_001]],
    ['chunks smaller than a piece', [1, 4_093, 517]],
    ['chunks larger than a piece', [64 * 1024, 9_001]],
  ])('is the stream of tuples (generation, position, piece) of the first bytes, from %s', (_, sizes) => {
    for (const bytes of [0, 1, 7_999, 8_000, 8_001, 24_000, 70_001]) {
      for (const exact of [false, true]) {
        // Pieces of 64 KB, as CopyPieces lends them, or just the size asked for: a tuple each.
        const take = (least: number): Buffer => Buffer.alloc(exact ? least : Math.max(64 * 1024, least));
        const pieces = binaryCopyOfChunks(42n, 1_000, chunked(sizes), bytes, 8_000, take);
        const expected: Buffer[][] = [];
        for (let at = 0; at < bytes; at += 8_000) expected.push([int8(42n), int8(BigInt(1_000 + at)), data.subarray(at, Math.min(at + 8_000, bytes))]);
        expect(Buffer.concat(pieces).equals(copyStream(expected))).toBe(true);
        if (exact) expect(pieces.length).toBe(Math.max(1, Math.ceil(bytes / 8_000)));
      }
    }
  });
});
