import { promisify } from 'node:util';
import { constants, crc32, deflateRaw } from 'node:zlib';
import type { ResultPart } from '../ports/store.js';
import { crc32Combine } from './crc32-combine.js';

/**
 * One file of a zip being written: its name, its exact size, and its bytes when asked for, as they
 * are or already deflated (each a raw deflate stream ended by a sync flush, with its CRC-32).
 */
export interface ZipWriterEntry {
  readonly name: string;
  /** The entry's uncompressed size, known beforehand (a result CSV's checkpoint counts it). */
  readonly size: number;
  readonly open: () => AsyncIterable<ResultPart>;
}

export interface ZipWriterOptions {
  /** Deflate level for raw bytes (parts deflated before are copied): 1, the fastest, still shrinks a result CSV several times. */
  readonly level?: number;
  /** Zip64 records even for small entries (tests: the format past 4 GB, without writing 4 GB). */
  readonly forceZip64?: boolean;
  readonly modified?: Date;
}

const U32_MAX = 0xffffffff;
const U16_MAX = 0xffff;
/**
 * The most bytes an entry of `size` can deflate to, as far as choosing its header goes: stored
 * blocks' 5-byte headers and a margin for what is deflated here; doubled for parts deflated
 * before (a batch's lines deflated alone end with a 5-byte sync flush and start new blocks, which
 * a batch of short lines could make a large share of it). An entry that passes it anyway fails.
 */
const deflateBound = (size: number): number => 2 * (size + Math.ceil(size / 16_384) * 5 + 64);

const deflate = promisify(deflateRaw);
/**
 * An entry is deflated in pieces of this many bytes, several at once on libuv's pool: at a job's
 * end both cores are free, and one deflate stream used one (measured in bench/: the 1M-row result
 * zip's ~0.35 s of deflating). Each piece ends with a sync flush instead of a final block, so the
 * pieces follow each other as one deflate stream; FINAL_BLOCK ends it. A piece starts with no
 * dictionary, which costs under 1% of the size at this length.
 */
const PIECE_BYTES = 1024 * 1024;
const PIECES_IN_FLIGHT = 4;
/** An empty final block (fixed Huffman codes, only the end-of-block code), as zlib ends a stream with nothing left. */
const FINAL_BLOCK = Buffer.from([0x03, 0x00]);

/**
 * Streams a zip of `entries`, each deflated and CRC-checked as it passes (parts deflated before
 * are copied, and their CRC-32s, taken when they were deflated, combined), with a data descriptor
 * after it (PKWARE APPNOTE 6.3: local header, data, descriptor, …, central directory, end record).
 * Written here rather than with yazl: yazl computes each entry's CRC-32 in JavaScript, ~0.12 s of
 * the job thread per million rows, where `zlib.crc32` takes a few milliseconds, and deflates an
 * entry as one stream, on one core. An entry whose size could pass 4 GB, or whose offset does, gets
 * Zip64 fields; the archive gets the Zip64 end records when its directory's offset or size does.
 */
export async function* zipStream(entries: readonly ZipWriterEntry[], options: ZipWriterOptions = {}): AsyncGenerator<Buffer> {
  const pieceOptions = { level: options.level ?? 1, finishFlush: constants.Z_SYNC_FLUSH };
  const force = options.forceZip64 === true;
  const { time, date } = dosDateTime(options.modified ?? new Date());
  const central: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8');
    if (name.length > U16_MAX) throw new Error(`zip entry name too long: ${entry.name.slice(0, 80)}…`);
    // Decided before the data: the local header must announce 8-byte sizes in the descriptor.
    const zip64 = force || deflateBound(entry.size) >= U32_MAX;
    const start = offset;
    const local = localHeader(name, zip64, time, date);
    offset += local.length;
    yield local;

    let crc = 0;
    let raw = 0;
    let compressed = 0;
    /** Pieces being deflated, in order. */
    const deflating: Promise<Buffer>[] = [];
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const deflatePending = (): void => {
      const piece = deflate(Buffer.concat(pending, pendingBytes), pieceOptions);
      // Awaited in order below; until then its failure must not count as unhandled.
      piece.catch(() => undefined);
      deflating.push(piece);
      pending = [];
      pendingBytes = 0;
    };
    try {
      // Leaving this loop early (the zip's reader stopped, or the source failed) closes the source.
      for await (const part of entry.open()) {
        if (part instanceof Uint8Array) {
          const chunk = Buffer.from(part.buffer, part.byteOffset, part.byteLength);
          crc = crc32(chunk, crc);
          raw += chunk.length;
          pending.push(chunk);
          pendingBytes += chunk.length;
          if (pendingBytes < PIECE_BYTES) continue;
          deflatePending();
        } else {
          // Deflated already: it follows the raw bytes before it, deflated first.
          if (pendingBytes > 0) deflatePending();
          crc = crc32Combine(crc, part.crc, part.rawBytes);
          raw += part.rawBytes;
          deflating.push(Promise.resolve(Buffer.from(part.deflated.buffer, part.deflated.byteOffset, part.deflated.byteLength)));
        }
        while (deflating.length >= PIECES_IN_FLIGHT) {
          const out = await (deflating.shift() as Promise<Buffer>);
          compressed += out.length;
          yield out;
        }
      }
      if (pendingBytes > 0) deflatePending();
      while (deflating.length > 0) {
        const out = await (deflating.shift() as Promise<Buffer>);
        compressed += out.length;
        yield out;
      }
    } finally {
      // Nothing is left running behind a zip that stopped or failed.
      await Promise.allSettled(deflating);
    }
    compressed += FINAL_BLOCK.length;
    yield FINAL_BLOCK;
    if (raw !== entry.size) throw new Error(`zip entry ${entry.name} held ${raw} bytes, not the ${entry.size} announced`);
    if (!zip64 && compressed >= U32_MAX) throw new Error(`zip entry ${entry.name} deflated to ${compressed} bytes, past what its header announced`);
    offset += compressed;
    const descriptor = dataDescriptor(crc, compressed, raw, zip64);
    offset += descriptor.length;
    yield descriptor;
    central.push(centralHeader(name, { crc, compressed, raw, offset: start, zip64, forceZip64: force, time, date }));
  }
  const directory = Buffer.concat(central);
  yield* endRecords(entries.length, directory, offset, force);
}

/** An entry whose data is already stored, deflated: only its figures are needed to place it. */
export interface StoredZipEntry {
  readonly name: string;
  /** Bytes it inflates to. */
  readonly size: number;
  /** The CRC-32 of those bytes. */
  readonly crc: number;
  /** Its stored deflate stream's bytes, which end with a sync flush (FINAL_BLOCK follows them here). */
  readonly deflatedBytes: number;
}

/**
 * The zip zipStream writes of entries deflated before, as the bytes around them: each element is
 * bytes of the zip, or the index of the entry whose stored deflate stream goes there. Joined where
 * the data is (the store's result chunks), the zip is written without its data passing through
 * this process; for the same parts and `modified`, it is zipStream's zip byte for byte.
 */
export function storedZipLayout(entries: readonly StoredZipEntry[], options: ZipWriterOptions = {}): (Buffer | number)[] {
  const force = options.forceZip64 === true;
  const { time, date } = dosDateTime(options.modified ?? new Date());
  const layout: (Buffer | number)[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  entries.forEach((entry, i) => {
    const name = Buffer.from(entry.name, 'utf8');
    if (name.length > U16_MAX) throw new Error(`zip entry name too long: ${entry.name.slice(0, 80)}…`);
    const zip64 = force || deflateBound(entry.size) >= U32_MAX;
    const compressed = entry.deflatedBytes + FINAL_BLOCK.length;
    if (!zip64 && compressed >= U32_MAX) throw new Error(`zip entry ${entry.name} deflated to ${compressed} bytes, past what its header announced`);
    const local = localHeader(name, zip64, time, date);
    const trailer = Buffer.concat([FINAL_BLOCK, dataDescriptor(entry.crc, compressed, entry.size, zip64)]);
    layout.push(local, i, trailer);
    central.push(centralHeader(name, { crc: entry.crc, compressed, raw: entry.size, offset, zip64, forceZip64: force, time, date }));
    offset += local.length + entry.deflatedBytes + trailer.length;
  });
  layout.push(Buffer.concat([...endRecords(entries.length, Buffer.concat(central), offset, force)]));
  return layout;
}

function localHeader(name: Buffer, zip64: boolean, time: number, date: number): Buffer {
  const extra = zip64 ? zip64Extra([0, 0]) : Buffer.alloc(0);
  const h = Buffer.alloc(30);
  h.writeUInt32LE(0x04034b50, 0);
  h.writeUInt16LE(zip64 ? 45 : 20, 4); // version needed: 4.5 for Zip64
  h.writeUInt16LE(0x0808, 6); // bit 3: sizes and CRC in the data descriptor; bit 11: UTF-8 name
  h.writeUInt16LE(8, 8); // deflate
  h.writeUInt16LE(time, 10);
  h.writeUInt16LE(date, 12);
  // CRC 0; sizes 0, or 0xFFFFFFFF where the Zip64 extra field holds them.
  h.writeUInt32LE(0, 14);
  h.writeUInt32LE(zip64 ? U32_MAX : 0, 18);
  h.writeUInt32LE(zip64 ? U32_MAX : 0, 22);
  h.writeUInt16LE(name.length, 26);
  h.writeUInt16LE(extra.length, 28);
  return Buffer.concat([h, name, extra]);
}

function dataDescriptor(crc: number, compressed: number, raw: number, zip64: boolean): Buffer {
  const d = Buffer.alloc(zip64 ? 24 : 16);
  d.writeUInt32LE(0x08074b50, 0);
  d.writeUInt32LE(crc, 4);
  if (zip64) {
    d.writeBigUInt64LE(BigInt(compressed), 8);
    d.writeBigUInt64LE(BigInt(raw), 16);
  } else {
    d.writeUInt32LE(compressed, 8);
    d.writeUInt32LE(raw, 12);
  }
  return d;
}

interface CentralEntry {
  readonly crc: number;
  readonly compressed: number;
  readonly raw: number;
  readonly offset: number;
  readonly zip64: boolean;
  readonly forceZip64: boolean;
  readonly time: number;
  readonly date: number;
}

function centralHeader(name: Buffer, e: CentralEntry): Buffer {
  // A field that does not fit its 4 bytes is 0xFFFFFFFF, and the Zip64 extra field holds it, in
  // the order uncompressed size, compressed size, offset (APPNOTE 4.5.3).
  const big = (n: number): boolean => e.forceZip64 || n >= U32_MAX;
  const wide = [big(e.raw) ? e.raw : null, big(e.compressed) ? e.compressed : null, big(e.offset) ? e.offset : null].filter((n): n is number => n !== null);
  const extra = wide.length > 0 ? zip64Extra(wide) : Buffer.alloc(0);
  const needs64 = e.zip64 || wide.length > 0;
  const h = Buffer.alloc(46);
  h.writeUInt32LE(0x02014b50, 0);
  h.writeUInt16LE((3 << 8) | 45, 4); // made by: Unix, 4.5 (file modes in the external attributes)
  h.writeUInt16LE(needs64 ? 45 : 20, 6);
  h.writeUInt16LE(0x0808, 8);
  h.writeUInt16LE(8, 10);
  h.writeUInt16LE(e.time, 12);
  h.writeUInt16LE(e.date, 14);
  h.writeUInt32LE(e.crc, 16);
  h.writeUInt32LE(big(e.compressed) ? U32_MAX : e.compressed, 20);
  h.writeUInt32LE(big(e.raw) ? U32_MAX : e.raw, 24);
  h.writeUInt16LE(name.length, 28);
  h.writeUInt16LE(extra.length, 30);
  // Comment length, disk number, internal attributes: 0.
  h.writeUInt32LE((0o100644 << 16) >>> 0, 38); // a regular file, rw-r--r--
  h.writeUInt32LE(big(e.offset) ? U32_MAX : e.offset, 42);
  return Buffer.concat([h, name, extra]);
}

function zip64Extra(values: readonly number[]): Buffer {
  const x = Buffer.alloc(4 + 8 * values.length);
  x.writeUInt16LE(0x0001, 0);
  x.writeUInt16LE(8 * values.length, 2);
  values.forEach((v, i) => x.writeBigUInt64LE(BigInt(v), 4 + 8 * i));
  return x;
}

function* endRecords(count: number, directory: Buffer, directoryOffset: number, force: boolean): Generator<Buffer> {
  yield directory;
  const zip64 = force || count >= U16_MAX || directory.length >= U32_MAX || directoryOffset >= U32_MAX;
  if (zip64) {
    const end64Offset = directoryOffset + directory.length;
    const r = Buffer.alloc(56);
    r.writeUInt32LE(0x06064b50, 0);
    r.writeBigUInt64LE(44n, 4); // the record's size after this field
    r.writeUInt16LE((3 << 8) | 45, 12);
    r.writeUInt16LE(45, 14);
    // This disk and the directory's disk: 0.
    r.writeBigUInt64LE(BigInt(count), 24);
    r.writeBigUInt64LE(BigInt(count), 32);
    r.writeBigUInt64LE(BigInt(directory.length), 40);
    r.writeBigUInt64LE(BigInt(directoryOffset), 48);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(0x07064b50, 0);
    locator.writeBigUInt64LE(BigInt(end64Offset), 8);
    locator.writeUInt32LE(1, 16); // disks in all
    yield Buffer.concat([r, locator]);
  }
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(zip64 ? U16_MAX : count, 8);
  end.writeUInt16LE(zip64 ? U16_MAX : count, 10);
  end.writeUInt32LE(zip64 ? U32_MAX : directory.length, 12);
  end.writeUInt32LE(zip64 ? U32_MAX : directoryOffset, 16);
  yield end;
}

/** MS-DOS date and time (local time, 2-second steps), as zip headers keep them. */
function dosDateTime(d: Date): { time: number; date: number } {
  const year = Math.min(Math.max(d.getFullYear(), 1980), 2107);
  return {
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | Math.floor(d.getSeconds() / 2),
    date: ((year - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
  };
}
