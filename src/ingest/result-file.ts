import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { constants, crc32, deflateRaw } from 'node:zlib';
import { formatRowErrors, type RowOutcome } from '../domain/row-result.js';
import type { FieldMapping } from '../domain/job.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { DeflatedLines, Store } from '../ports/store.js';
import { crc32Combine } from './crc32-combine.js';
import { storedZipLayout, zipStream, type StoredZipEntry } from './zip-writer.js';

/** Columns of the input echoed in the result: the first three mapped columns (reference §7.2). */
export function echoedColumns(mappings: readonly FieldMapping[]): number[] {
  const indexes = [...new Set(mappings.map((m) => m.index).filter((i): i is number => i !== null))].sort((a, b) => a - b);
  return indexes.slice(0, 3);
}

const NEEDS_QUOTES = /[",\r\n]/;

/**
 * One CSV cell as RFC 4180 writes it. Written here rather than with csv-stringify: on the hot path
 * (a result line per input row) csv-stringify took a sixth of a job's time (measured in bench/).
 */
function cell(value: string): string {
  return NEEDS_QUOTES.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function resultHeaderLine(header: readonly string[], echoed: readonly number[]): Buffer {
  return Buffer.from(`${[...echoed.map((i) => header[i] ?? ''), 'STATUS', 'RECORD_ID', 'ERRORS'].map(cell).join(',')}\n`, 'utf8');
}

const COMMA = 0x2c;
const NEWLINE = 0x0a;
const QUOTE = 0x22;
const RETURN = 0x0d;

/**
 * A batch's result lines, written straight into one buffer: built as strings first, they were a
 * sixth of an insert job's allocations (measured in bench/), all garbage once encoded. Plain ASCII
 * (most cells, every status and id) is copied a character at a time, by functions that keep the
 * buffer and offset in locals: a `buf.write` call per cell cost more than the copy itself (the
 * lines of 1,000,000 rows took 0.80–0.95 s, now 0.45–0.53 s, in bench/tools/job-thread.mjs).
 */
export function resultLines(
  rows: readonly (readonly string[])[],
  outcomes: readonly RowOutcome[],
  echoed: readonly number[],
  recordBytes?: EchoBytes,
): Buffer {
  let out = Buffer.allocUnsafe(Math.max(4096, outcomes.length * 96));
  let at = 0;
  const prefix = recordBytes !== undefined && echoesRecordBytes(recordBytes.delimiter, echoed) ? recordBytes : undefined;
  for (let k = 0; k < outcomes.length; k++) {
    const o = outcomes[k] as RowOutcome;
    const raw = rows[k] ?? [];
    const id = o.recordId ?? '';
    const errors = o.errors.length > 0 ? formatRowErrors(o.errors) : '';
    const end = prefix === undefined || raw.length < echoed.length ? -1 : (prefix.ends[k] as number);
    // The most the line can take: its record's bytes, or per cell of n UTF-16 units at most 3n
    // bytes of UTF-8, plus n doubled quotes and the two around it.
    let most = o.status.length + id.length + 4 * errors.length + 6;
    if (end >= 0) most += end - (prefix?.starts[k] as number) + 1;
    else for (const i of echoed) most += 4 * (raw[i] ?? '').length + 3;
    if (at + most > out.length) {
      const bigger = Buffer.allocUnsafe(Math.max(out.length * 2, at + most));
      out.copy(bigger, 0, 0, at);
      out = bigger;
    }
    if (end >= 0) {
      at = writePrefix(out, at, prefix as EchoBytes, prefix?.starts[k] as number, end, echoed.length);
    } else {
      for (const i of echoed) {
        at = writeCell(out, at, raw[i] ?? '');
        out[at++] = COMMA;
      }
    }
    at = writeAscii(out, at, o.status);
    out[at++] = COMMA;
    at = writeAscii(out, at, id);
    out[at++] = COMMA;
    if (errors !== '') at = writeCell(out, at, errors);
    out[at++] = NEWLINE;
  }
  return out.subarray(0, at);
}

const deflate = promisify(deflateRaw);
/**
 * Level 1, the fastest, as the zip's own deflating; a sync flush ends it where a final block would.
 * Output in 64 KB: a batch's lines (~315 KB on the bench's rows) deflate to ~53 KB, one trip to
 * libuv's pool; with zlib's 16 KB default, four, each continued from a callback on the job thread,
 * which runs only when that thread next waits (measured, 1M-row inserts: the job thread's wait for
 * the deflate 785–794 ms against 923–965 ms in a steady phase of the VM; the jobs within noise).
 */
const DEFLATE_OPTIONS = { level: 1, finishFlush: constants.Z_SYNC_FLUSH, chunkSize: 64 * 1024 };

/**
 * A batch's result lines deflated on libuv's pool, to commit with the batch (ports/store.ts
 * DeflatedLines): the job's end then only copies them into the zip where it deflated the whole
 * CSV, so a job completes sooner after its last row, and the store keeps about an eighth of the
 * bytes meanwhile (docs/performance.md has the figures; rows/s are unchanged).
 */
export async function deflateResultLines(lines: Buffer): Promise<DeflatedLines> {
  return { deflated: await deflate(lines, DEFLATE_OPTIONS), rawBytes: lines.length, crc: crc32(lines) };
}

export function resultEntryName(moduleApiName: string, csvName: string): string {
  return `${moduleApiName}-${csvName}`;
}

/** A resource's result CSV as the job's zip holds it. */
export interface ResultEntry {
  readonly name: string;
  /** Its bytes, as the resource's checkpoint counts them. */
  readonly size: number;
  readonly resourceIndex: number;
}

/**
 * Zips the resources' result CSVs into the job's download: joined by the store where the result
 * chunks are, when it can (joinedResultZip), else streamed through here, each deflated part
 * copied and each raw one deflated. Both ways give the same zip.
 */
export async function writeResultZip(blobs: BlobStore, store: Store, jobId: string, zipKey: string, resources: readonly ResultEntry[]): Promise<void> {
  const names = new Set<string>();
  const entries = resources.map((e) => {
    let name = e.name;
    for (let n = 2; names.has(name); n++) name = e.name.replace(/(\.csv)?$/i, `-${n}$1`);
    names.add(name);
    return { ...e, name };
  });
  if (await joinedResultZip(store, jobId, zipKey, entries)) return;
  await blobs.write(zipKey, Readable.from(zipStream(entries.map((e) => ({ ...e, open: () => store.readResult(jobId, e.resourceIndex, e.size) })))));
}

/**
 * Has the store join the zip from its result chunks (Store.writeJoinedResult), the bytes around
 * them laid out here (storedZipLayout); false, having written nothing, for a store that cannot, or
 * when a resource's chunks are not all deflated, or leave a gap or a short end: streamed, the
 * first are deflated and the others fail with the bytes they miss.
 */
async function joinedResultZip(store: Store, jobId: string, zipKey: string, entries: readonly ResultEntry[]): Promise<boolean> {
  if (!store.resultIndex || !store.writeJoinedResult) return false;
  const stored: StoredZipEntry[] = [];
  for (const e of entries) {
    let next = 0;
    let crc = 0;
    let deflatedBytes = 0;
    for (const c of await store.resultIndex(jobId, e.resourceIndex)) {
      if (c.rawBytes === null || c.crc === null || c.pos !== next) return false;
      crc = crc32Combine(crc, c.crc, c.rawBytes);
      next += c.rawBytes;
      deflatedBytes += c.storedBytes;
    }
    if (next !== e.size) return false;
    stored.push({ name: e.name, size: e.size, crc, deflatedBytes });
  }
  const layout = storedZipLayout(stored);
  const bytes = layout.reduce<number>((n, p) => n + (typeof p === 'number' ? (stored[p] as StoredZipEntry).deflatedBytes : p.length), 0);
  const parts = layout.map((p) => (typeof p === 'number' ? { resourceIndex: (entries[p] as ResultEntry).resourceIndex } : p));
  await store.writeJoinedResult(zipKey, jobId, parts, bytes);
  return true;
}

/**
 * Whether a record kept as bytes has its echoed cells written from them (resultLines): they are its
 * first cells, and a comma parts them as in the result, so a record read as bytes (no quotes, so
 * no cell to quote) echoes its bytes up to its echoed.length-th comma. Such cells need no strings.
 */
export function echoesRecordBytes(delimiter: number, echoed: readonly number[]): boolean {
  return delimiter === COMMA && echoed.length > 0 && echoed.every((c, i) => c === i);
}

/** A batch's record bytes (csv-byte-reader.ts RecordBytes), for the echoed cells of its records. */
export interface EchoBytes {
  readonly bytes: Uint8Array;
  readonly starts: readonly number[];
  /** -1 for a record to echo from its cells. */
  readonly ends: readonly number[];
  readonly delimiter: number;
}

/** A record's first `cells` cells, each followed by a comma, from its bytes [start, end). */
function writePrefix(out: Buffer, at: number, b: EchoBytes, start: number, end: number, cells: number): number {
  const bytes = b.bytes;
  let left = cells;
  for (let i = start; i < end; i++) {
    const c = bytes[i] as number;
    out[at++] = c;
    if (c === COMMA && --left === 0) return at;
  }
  out[at++] = COMMA;
  return at;
}

/** Text known to be ASCII (a status, an id); returns the offset after it. */
function writeAscii(out: Buffer, at: number, text: string): number {
  for (let i = 0; i < text.length; i++) out[at + i] = text.charCodeAt(i);
  return at + text.length;
}

/**
 * One CSV cell as UTF-8, quoted when it must be; returns the offset after it. Letters of the Basic
 * Multilingual Plane are encoded here too (a name with an accent is common); a cell to quote, or
 * one with a surrogate pair, is written again from its start by `buf.write`.
 */
function writeCell(out: Buffer, start: number, value: string): number {
  let at = start;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x80) {
      if (c === QUOTE || c === COMMA || c === NEWLINE || c === RETURN) return start + out.write(cell(value), start, 'utf8');
      out[at++] = c;
    } else if (c < 0x800) {
      out[at++] = 0xc0 | (c >> 6);
      out[at++] = 0x80 | (c & 0x3f);
    } else if (c >= 0xd800 && c <= 0xdfff) {
      return start + out.write(cell(value), start, 'utf8');
    } else {
      out[at++] = 0xe0 | (c >> 12);
      out[at++] = 0x80 | ((c >> 6) & 0x3f);
      out[at++] = 0x80 | (c & 0x3f);
    }
  }
  return at;
}
