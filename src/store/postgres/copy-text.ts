import type { CellValue } from '../../domain/coercion.js';
import { cell, keyValue } from '../record-rows.js';
import type { RecordLines, RecordRows } from '../../ports/store.js';
import { freshPieces, type PieceSource } from './copy-pieces.js';
import { copyField } from './record-columns.js';

const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const BACKSLASH = 0x5c;

/**
 * Delimiters a COPY of record lines keeps as the CSV has them (`COPY … (DELIMITER ',')`): the
 * CSV's delimiters (ingest/delimiter.ts), none of which COPY's text format refuses (a backslash,
 * `.`, a lowercase letter or a digit) or a number's text, `\N`, `t` or `f` holds. A line is then
 * copied as it is, but for its backslashes (`perf` of the commit thread: translating each byte
 * in JavaScript was 5.5% of the server's samples in a 1M-row insert).
 */
const KEPT_DELIMITERS: ReadonlySet<number> = new Set([0x2c, 0x3b, 0x3a, 0x7c]);

/** The byte between the fields of `rows`' COPY text: their lines' delimiter where COPY can take it, else a tab. */
export function copyDelimiter(rows: RecordRows): number {
  const d = rows.lines?.delimiter;
  return d !== undefined && KEPT_DELIMITERS.has(d) ? d : TAB;
}

/** COPY's option for that delimiter: none for the default tab. */
export function copyDelimiterOption(delimiter: number): string {
  return delimiter === TAB ? '' : ` (DELIMITER '${String.fromCharCode(delimiter)}')`;
}

/**
 * A batch's rows as COPY text-format lines (PostgreSQL docs, COPY "Text Format"), written as UTF-8
 * straight into buffers of about 64 KB: `id`, the shared fields (the same bytes on every line),
 * the columns, then the key columns of `keyed`, separated by copyDelimiter(rows). Built as
 * strings, a line was some thirty concatenations, each a V8 object, then flattened and encoded
 * again: ~2.4 KB of garbage a row on the PostgreSQL commit thread (`--trace-gc`: 308 scavenges and
 * 42 full collections per million rows).
 * The buffers come from `source` (copy-pieces.ts); each piece returned is a view of one of them.
 */
export function copyLines(
  rows: RecordRows,
  shared: readonly (CellValue | undefined)[],
  keyed: readonly number[],
  source: PieceSource = freshPieces,
): Buffer[] {
  const sep = copyDelimiter(rows);
  const sharedBytes = sharedFields(shared, sep);
  const w = rows.columns.length;
  const lines = rows.lines;
  const line = lines === undefined ? null : sep === TAB ? null : new LineCopier(lines);
  const pieces: Buffer[] = [];
  let out: Buffer | null = null;
  let at = 0;
  for (let r = 0; r < rows.ids.length; r++) {
    const id = rows.ids[r] as string;
    // The most the line can take: a UTF-16 unit is at most 3 bytes of UTF-8, or 2 escaped.
    const lineStart = lines === undefined ? -1 : (lines.starts[r] as number);
    const lineEnd = lineStart >= 0 ? ((lines as RecordLines).ends[r] as number) : -1;
    let most = id.length + sharedBytes.length + 1;
    if (lineStart >= 0) most += 2 * lineEnd - 2 * lineStart + 1;
    else for (let c = 0; c < w; c++) most += fieldBound(cell(rows, c, r));
    // A key from a line's cell: as from a value of as many UTF-16 units as the line has bytes, at most.
    for (const c of keyed) most += 2 * (lineStart >= 0 ? 3 * (lineEnd - lineStart) + 1 : fieldBound(cell(rows, c, r)));
    if (out === null || at + most > out.length) {
      // A buffer is taken only when a line needs one: every piece holds at least a line.
      if (out !== null) pieces.push(out.subarray(0, at));
      out = source(most);
      at = 0;
    }
    at = writeText(out, at, id, sep); // digits
    at += sharedBytes.copy(out, at);
    if (lineStart >= 0) {
      out[at++] = sep;
      at = line === null ? writeLine(out, at, lines as RecordLines, lineStart, lineEnd) : line.write(out, at, lineStart, lineEnd);
    } else {
      for (let c = 0; c < w; c++) {
        out[at++] = sep;
        at = writeField(out, at, cell(rows, c, r), sep);
      }
    }
    for (const c of keyed) {
      out[at++] = sep;
      const v = cell(rows, c, r);
      at = lineStart >= 0 && v === undefined ? writeLineKey(out, at, lines as RecordLines, lineStart, lineEnd, c, sep) : writeField(out, at, keyValue(v), sep);
    }
    out[at++] = LF;
  }
  if (out !== null) pieces.push(out.subarray(0, at));
  return pieces;
}

/** The shared fields' bytes, each after the delimiter, as every line of the batch has them. */
function sharedFields(shared: readonly (CellValue | undefined)[], sep: number): Buffer {
  const out = Buffer.allocUnsafe(shared.reduce<number>((n, v) => n + 1 + 2 * fieldBound(v), 0));
  let at = 0;
  for (const v of shared) {
    out[at++] = sep;
    at = writeField(out, at, v, sep);
  }
  return out.subarray(0, at);
}

/**
 * A record's cells as read from its CSV line (RecordRows.lines) for a COPY whose delimiter is the
 * line's: its bytes as they are, a backslash doubled (the line has no line breaks, and no
 * delimiter inside a cell, being unquoted). Lines without one, nearly all, are copied whole; the
 * next backslash is looked for once, not again for each line before it.
 */
class LineCopier {
  private readonly bytes: Buffer;
  /** The first backslash at or after `from`, or bytes.length for none. */
  private backslash = -1;
  private from = Number.MAX_SAFE_INTEGER;

  constructor(lines: RecordLines) {
    this.bytes = Buffer.from(lines.bytes.buffer, lines.bytes.byteOffset, lines.bytes.byteLength);
  }

  write(out: Buffer, at: number, start: number, end: number): number {
    const bytes = this.bytes;
    if (start < this.from || this.backslash < start) {
      const i = bytes.indexOf(BACKSLASH, start);
      this.backslash = i < 0 ? bytes.length : i;
      this.from = start;
    }
    if (this.backslash >= end) return at + bytes.copy(out, at, start, end);
    for (let i = start; i < end; i++) {
      const b = bytes[i] as number;
      out[at++] = b;
      if (b === BACKSLASH) out[at++] = BACKSLASH;
    }
    return at;
  }
}

/**
 * A record's cells as read from its CSV line (RecordRows.lines), for a COPY delimited by tabs: its
 * bytes, UTF-8 already, with a tab for each delimiter and COPY's escapes for a tab or backslash
 * inside a cell (the line has no line breaks). No byte of a multi-byte character is ASCII, so the
 * bytes are compared one by one.
 */
function writeLine(out: Buffer, at: number, lines: RecordLines, start: number, end: number): number {
  const bytes = lines.bytes;
  const delimiter = lines.delimiter;
  for (let i = start; i < end; i++) {
    const b = bytes[i] as number;
    if (b === delimiter) out[at++] = TAB;
    else if (b === TAB) {
      out[at++] = BACKSLASH;
      out[at++] = 0x74;
    } else if (b === BACKSLASH) {
      out[at++] = BACKSLASH;
      out[at++] = BACKSLASH;
    } else out[at++] = b;
  }
  return at;
}

/**
 * The key (keyValue) of cell `index` of a record's CSV line (RecordRows.lines: a cell a column, in
 * order, each its value as written), as COPY text. Printable ASCII, nearly every key, is lower-cased
 * as it is copied, which is what foldKey does to it; any other cell is decoded and folded.
 */
function writeLineKey(out: Buffer, at: number, lines: RecordLines, start: number, end: number, index: number, sep: number): number {
  const bytes = lines.bytes;
  const delimiter = lines.delimiter;
  let from = start;
  for (let k = 0; k < index && from < end; k++) {
    while (from < end && bytes[from] !== delimiter) from++;
    from++;
  }
  let to = from;
  while (to < end && bytes[to] !== delimiter) to++;
  for (let i = from; i < to; i++) {
    const c = bytes[i] as number;
    if (c > 0x7e || (c < 0x20 && c !== TAB)) {
      const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8', from, to);
      return writeText(out, at, keyValue(text) as string, sep);
    }
  }
  for (let i = from; i < to; i++) {
    const c = bytes[i] as number;
    if (c >= 0x41 && c <= 0x5a) out[at++] = c + 0x20;
    else if (c === BACKSLASH || c === TAB || c === sep) {
      out[at++] = BACKSLASH;
      out[at++] = c === TAB ? 0x74 : c;
    } else out[at++] = c;
  }
  return at;
}

/** Bytes a field (with its delimiter) can take at most. Folding a key may lengthen it: counted twice above. */
function fieldBound(v: CellValue | undefined): number {
  return typeof v === 'string' ? 3 * v.length + 1 : 32;
}

function writeField(out: Buffer, at: number, v: CellValue | undefined, sep: number): number {
  if (typeof v === 'string') return writeText(out, at, v, sep);
  // \N, t, f or a number: ASCII without a delimiter, written as copyField gives it (escaping it
  // again would turn \N into text).
  const text = copyField(v);
  for (let i = 0; i < text.length; i++) out[at++] = text.charCodeAt(i);
  return at;
}

/**
 * Text as UTF-8 with COPY's escapes for backslash, tab, line breaks and the delimiter `sep` (a
 * backslash before it). A surrogate pair is one four-byte character and a lone surrogate U+FFFD,
 * as `Buffer.from` writes them.
 */
function writeText(out: Buffer, at: number, text: string, sep: number): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) {
      if (c === BACKSLASH || c === TAB || c === LF || c === CR) {
        out[at++] = BACKSLASH;
        out[at++] = c === BACKSLASH ? BACKSLASH : c === TAB ? 0x74 : c === LF ? 0x6e : 0x72;
      } else if (c === sep) {
        out[at++] = BACKSLASH;
        out[at++] = c;
      } else {
        out[at++] = c;
      }
    } else if (c < 0x800) {
      out[at++] = 0xc0 | (c >> 6);
      out[at++] = 0x80 | (c & 0x3f);
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      const cp = 0x10000 + ((c - 0xd800) << 10) + (text.charCodeAt(++i) - 0xdc00);
      out[at++] = 0xf0 | (cp >> 18);
      out[at++] = 0x80 | ((cp >> 12) & 0x3f);
      out[at++] = 0x80 | ((cp >> 6) & 0x3f);
      out[at++] = 0x80 | (cp & 0x3f);
    } else {
      const u = c >= 0xd800 && c <= 0xdfff ? 0xfffd : c;
      out[at++] = 0xe0 | (u >> 12);
      out[at++] = 0x80 | ((u >> 6) & 0x3f);
      out[at++] = 0x80 | (u & 0x3f);
    }
  }
  return at;
}
