import type { Readable } from 'node:stream';
import iconv from 'iconv-lite';
import type { CellBytesCheck } from '../domain/cell-bytes.js';
import { holdsNul } from '../domain/coercion.js';
import { CsvByteRecordReader, RecordBytes, type BatchRecordBytes } from './csv-byte-reader.js';
import { CsvRecordReader } from './csv-record-reader.js';

export interface CsvReadOptions {
  readonly encoding: string;
  readonly delimiter: string;
  /**
   * Keep each batch's record bytes (CsvBatch.recordBytes), where the file is split on its bytes
   * (UTF-8 with a one-byte delimiter); other files' batches have none.
   */
  readonly recordBytes?: boolean;
  /**
   * With recordBytes: per column, a check that spares the cells passing it a string
   * (CsvByteRecordReader.keepRecordBytes); null for a column read as strings.
   */
  readonly cellChecks?: readonly (CellBytesCheck | null)[];
}

/**
 * A batch of records, with their bytes when the reader was asked to keep them, and the indexes of
 * the records that hold U+0000 (set only when some do; coercion.ts holdsNul says why).
 */
export type CsvBatch = string[][] & { recordBytes?: BatchRecordBytes; nulRows?: ReadonlySet<number> };

/** Bytes → text, chunk by chunk; multi-byte characters split across chunks are kept whole, BOMs dropped. */
function textDecoder(encoding: string): { write(chunk: Buffer): string; end(): string } {
  const d = iconv.getDecoder(encoding);
  return { write: (c) => d.write(c), end: () => d.end() ?? '' };
}

/**
 * Bytes decoded at a time. A string over 128 KB lands in V8's large-object space: decoding the
 * bench's 145 MB CSV in 128 KB chunks took 1.2 s, in 16 KB pieces 0.11 s (two-byte strings, as
 * text with accented letters decodes to, take twice their length).
 */
const DECODE_PIECE = 16 * 1024;

/**
 * Streams the records (header first) of a CSV byte stream, in batches of up to `maxBatch`, after
 * the first `skip` records. Backpressure runs end to end: the zip entry is only inflated as fast as
 * batches are consumed.
 *
 * The skipped records (a job's header, and the rows a previous run committed) are dropped here so
 * that each batch is one job batch as it comes. (Filled from batches offset by the header, a job's
 * batch and the whole reader batch after it were alive together: 6,600 rows at a flush in a heap
 * snapshot of the job thread, 2,800 now. Scavenges copy as many bytes either way: ~3 MB each,
 * mostly the batch being processed.)
 */
export async function* readCsvBatches(source: Readable, opts: CsvReadOptions, maxBatch: number, skip = 0): AsyncGenerator<CsvBatch> {
  const reader = recordReader(opts);
  let raw: RecordBytes | null = null;
  if (opts.recordBytes && reader instanceof CsvByteRecordReader) reader.keepRecordBytes((raw = new RecordBytes()), opts.cellChecks);
  let pending: string[][] = [];
  let toSkip = skip;
  // Records are looked at for U+0000 only once a chunk has had a zero byte (which every encoding
  // the reader takes writes it as): a record that holds one ends in that chunk or a later one.
  let sawZero = false;
  const withNul = new Set<readonly string[]>();
  // A checked record's cells are '' (keepRecordBytes), but no check takes a control character.
  const findNul = (from: number): void => {
    for (let i = from; i < pending.length; i++) {
      const record = pending[i] as string[];
      if (record.some(holdsNul)) withNul.add(record);
    }
  };
  const cut = (n: number): CsvBatch => {
    const batch: CsvBatch = pending.length === n ? pending : pending.slice(0, n);
    pending = pending.length === n ? [] : pending.slice(n);
    if (raw) batch.recordBytes = raw.take(n);
    if (withNul.size > 0) {
      const rows = new Set<number>();
      batch.forEach((record, k) => {
        if (withNul.delete(record)) rows.add(k);
      });
      if (rows.size > 0) batch.nulRows = rows;
    }
    return batch;
  };
  try {
    for await (const chunk of source) {
      const before = pending.length;
      reader.push(chunk as Buffer, pending);
      sawZero ||= (chunk as Buffer).includes(0);
      if (sawZero) findNul(before);
      if (toSkip > 0) pending = skipped(pending);
      while (pending.length >= maxBatch) yield cut(maxBatch);
    }
    const before = pending.length;
    reader.end(pending);
    if (sawZero) findNul(before);
    if (toSkip > 0) pending = skipped(pending);
    while (pending.length > 0) yield cut(Math.min(maxBatch, pending.length));
  } finally {
    if (!source.destroyed) source.destroy();
  }

  function skipped(records: string[][]): string[][] {
    const n = Math.min(toSkip, records.length);
    toSkip -= n;
    for (let i = 0; i < n; i++) withNul.delete(records[i] as string[]);
    raw?.take(n);
    return n === records.length ? [] : records.slice(n);
  }
}

interface RecordReader {
  push(bytes: Buffer, out: string[][]): void;
  end(out: string[][]): void;
}

/** UTF-8 is split on bytes (CsvByteRecordReader says why); other encodings are decoded first. */
function recordReader(opts: CsvReadOptions): RecordReader {
  if (opts.encoding === 'UTF-8' && CsvByteRecordReader.supports(opts.delimiter)) return new CsvByteRecordReader(opts.delimiter);
  const decoder = textDecoder(opts.encoding);
  const reader = new CsvRecordReader(opts.delimiter);
  return {
    push: (bytes, out) => {
      for (let at = 0; at < bytes.length; at += DECODE_PIECE) reader.push(decoder.write(bytes.subarray(at, at + DECODE_PIECE)), out);
    },
    end: (out) => {
      reader.push(decoder.end(), out);
      reader.end(out);
    },
  };
}

/** The records of a CSV one by one (for reading a header and a first row). */
export async function* readCsvRecords(source: Readable, opts: CsvReadOptions): AsyncGenerator<string[]> {
  for await (const batch of readCsvBatches(source, opts, 64)) yield* batch;
}

/** Reads up to `maxBytes` from the start of a stream, then stops it. */
export async function readHead(source: Readable, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of source) {
      chunks.push(chunk as Buffer);
      size += (chunk as Buffer).length;
      if (size >= maxBytes) break;
    }
  } finally {
    source.destroy();
  }
  return Buffer.concat(chunks).subarray(0, maxBytes);
}
