import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import type { ResultChunk } from '../result-chunks.js';
import type { PieceSource } from './copy-pieces.js';

/** What every `COPY … (FORMAT binary)` stream starts with (PostgreSQL's COPY docs, "Binary Format"). */
const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
/** The signature, a 32-bit flags field and the 32-bit length of the header extension that follows. */
const HEADER_BYTES = SIGNATURE.length + 8;

/** Writes a binary COPY's header at the start of `out`; returns the offset after it. */
function writeHeader(out: Buffer): number {
  const at = SIGNATURE.copy(out, 0);
  out.writeUInt32BE(0, at); // flags
  return out.writeUInt32BE(0, at + 4); // header extension length
}

/** A tuple's bytes before its bytea's: the field count, then each field's length and the two bigints, then the bytea's length. */
const TUPLE_HEAD_BYTES = 2 + 12 + 12 + 4;

/**
 * The data of a `COPY … FROM STDIN (FORMAT binary)` into columns (bigint, bigint, bytea) of a
 * blob's bytes as they arrived: the first `bytes` bytes of `chunks`, as tuples (`generation`,
 * position, piece) of `pieceBytes` each (the last one shorter), positions counted from `start`.
 * Binary, so that bytea travels as itself rather than as hex text twice its size. The tuples are
 * written straight into buffers of `take` (each piece returned is a view of one, several tuples
 * to a piece), where joining the chunks first and copying them again into one new buffer cost an
 * upload two copies of its bytes into memory never touched before (the first upload of the bench's
 * 21.5 MB zip: ~150 ms of the server's main thread) and V8 full collections for the external memory.
 */
export function binaryCopyOfChunks(
  generation: bigint,
  start: number,
  chunks: readonly Uint8Array[],
  bytes: number,
  pieceBytes: number,
  take: PieceSource,
): Buffer[] {
  const out: Buffer[] = [];
  let buf = take(HEADER_BYTES + TUPLE_HEAD_BYTES + Math.min(pieceBytes, bytes) + 2);
  let at = writeHeader(buf);
  /** Where the next byte to copy is: chunk c, offset off. */
  let c = 0;
  let off = 0;
  for (let done = 0; done < bytes; ) {
    const n = Math.min(pieceBytes, bytes - done);
    // The trailer's two bytes are kept free too, so the last tuple never leaves them alone in a piece.
    if (at + TUPLE_HEAD_BYTES + n + 2 > buf.length) {
      out.push(buf.subarray(0, at));
      buf = take(TUPLE_HEAD_BYTES + n + 2);
      at = 0;
    }
    at = buf.writeInt16BE(3, at);
    at = buf.writeInt32BE(8, at);
    at = buf.writeBigInt64BE(generation, at);
    at = buf.writeInt32BE(8, at);
    at = buf.writeBigInt64BE(BigInt(start + done), at);
    at = buf.writeInt32BE(n, at);
    for (let left = n; left > 0; ) {
      const chunk = chunks[c] as Uint8Array;
      const k = Math.min(left, chunk.byteLength - off);
      buf.set(chunk.subarray(off, off + k), at);
      at += k;
      off += k;
      left -= k;
      if (off === chunk.byteLength) {
        c++;
        off = 0;
      }
    }
    done += n;
  }
  at = buf.writeInt16BE(-1, at); // trailer
  out.push(buf.subarray(0, at));
  return out;
}

/**
 * The data of a `COPY result_chunks (job_id, idx, pos, data, raw_bytes, crc) FROM STDIN (FORMAT
 * binary)` of one chunk: text as its UTF-8 bytes, integer as 4 bytes, bigint as 8, big-endian.
 */
export function binaryCopyOfChunkRow(jobId: string, idx: number, chunk: ResultChunk): Buffer {
  const id = Buffer.from(jobId, 'utf8');
  const out = Buffer.allocUnsafe(HEADER_BYTES + 2 + 6 * 4 + id.length + 4 + 8 + chunk.data.byteLength + 4 + 8 + 2);
  let at = writeHeader(out);
  at = out.writeInt16BE(6, at);
  at = out.writeInt32BE(id.length, at);
  at += id.copy(out, at);
  at = out.writeInt32BE(4, at);
  at = out.writeInt32BE(idx, at);
  at = out.writeInt32BE(8, at);
  at = out.writeBigInt64BE(BigInt(chunk.pos), at);
  at = out.writeInt32BE(chunk.data.byteLength, at);
  out.set(chunk.data, at);
  at += chunk.data.byteLength;
  if (chunk.rawBytes === null) at = out.writeInt32BE(-1, at);
  else {
    at = out.writeInt32BE(4, at);
    at = out.writeInt32BE(chunk.rawBytes, at);
  }
  if (chunk.crc === null) at = out.writeInt32BE(-1, at);
  else {
    at = out.writeInt32BE(8, at);
    at = out.writeBigInt64BE(BigInt(chunk.crc), at);
  }
  at = out.writeInt16BE(-1, at); // trailer
  return out.subarray(0, at);
}

/**
 * The tuples of a `COPY … TO STDOUT (FORMAT binary)` stream, each as its fields' bytes (null for
 * NULL), in the server's binary representation: bytea as the bytes themselves. Read this way
 * rather than by queries, whose bytea arrives as hex text twice its size, decoded to a string and
 * then to bytes (measured on PostgreSQL: `Buffer.toString` was a job thread's largest item).
 * A stream that ends before its trailer fails; after the trailer, the source is read to its end.
 */
export async function* binaryCopyTuples(source: AsyncIterable<Buffer>): AsyncGenerator<(Buffer | null)[]> {
  let buf: Buffer = Buffer.alloc(0);
  /** Chunks after `buf` not joined to it yet: a tuple of a MB arrives in many socket reads, joined once. */
  const waiting: Buffer[] = [];
  let waitingBytes = 0;
  /** The bytes `buf` must hold before the next tuple (or the header) can be read. */
  let need = 0;
  let headerRead = false;
  let ended = false;
  for await (const chunk of source) {
    // Past the trailer the source is read to its end, so that the connection finishes the COPY.
    if (ended) continue;
    waiting.push(chunk);
    waitingBytes += chunk.length;
    if (buf.length + waitingBytes < need) continue;
    buf = buf.length === 0 && waiting.length === 1 ? chunk : Buffer.concat([buf, ...waiting]);
    waiting.length = 0;
    waitingBytes = 0;
    let at = 0;
    if (!headerRead) {
      const start = buf.subarray(0, SIGNATURE.length);
      if (!start.equals(SIGNATURE.subarray(0, start.length))) throw new Error('not a binary COPY stream');
      if (buf.length < HEADER_BYTES) continue;
      const extension = buf.readUInt32BE(SIGNATURE.length + 4);
      if (buf.length < HEADER_BYTES + extension) continue;
      at = HEADER_BYTES + extension;
      headerRead = true;
    }
    for (;;) {
      if (buf.length - at >= 2 && buf.readInt16BE(at) === -1) {
        ended = true;
        break;
      }
      const tuple = tupleAt(buf, at);
      // The tuple goes on in the next chunks: wait for as many bytes as it is known to need.
      if ('need' in tuple) {
        need = tuple.need - at;
        break;
      }
      yield tuple.fields;
      at = tuple.end;
    }
    buf = buf.subarray(at);
  }
  if (!ended) throw new Error('the binary COPY stream ended before its trailer');
}

/**
 * The tuple that starts at byte `at` of `buf`, and where it ends; or, if `buf` ends first, the
 * length `buf` must reach for the tuple to be read further (its next field's header, or the field).
 */
function tupleAt(buf: Buffer, at: number): { fields: (Buffer | null)[]; end: number } | { need: number } {
  if (buf.length - at < 2) return { need: at + 2 };
  const count = buf.readInt16BE(at);
  const fields: (Buffer | null)[] = [];
  let p = at + 2;
  for (let f = 0; f < count; f++) {
    if (buf.length - p < 4) return { need: p + 4 };
    const length = buf.readInt32BE(p);
    p += 4;
    if (length === -1) {
      fields.push(null);
      continue;
    }
    if (buf.length - p < length) return { need: p + length };
    fields.push(buf.subarray(p, p + length));
    p += length;
  }
  return { fields, end: p };
}

/**
 * The tuples of `COPY (query) TO STDOUT (FORMAT binary)` on a connection of `pool` held for the
 * COPY only. A read left midway (the consumer stops, or a tuple fails) leaves the connection in the
 * middle of the protocol: it is dropped from the pool, not reused. COPY takes no parameters: the
 * caller puts only checked integers and `escapeLiteral` text into `query`.
 */
export async function* copyOut(pool: pg.Pool, query: string): AsyncGenerator<(Buffer | null)[]> {
  const client = await pool.connect();
  const copy = client.query(copyTo(`COPY (${query}) TO STDOUT (FORMAT binary)`));
  let finished = false;
  try {
    yield* binaryCopyTuples(copy);
    finished = true;
  } finally {
    if (!finished) copy.destroy();
    client.release(finished ? undefined : new Error('COPY read stopped midway'));
  }
}
