import type { CellBytesCheck } from '../domain/cell-bytes.js';
import { CsvRecordTooLongError, splitRecords } from './csv-record-reader.js';

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

/**
 * Splits UTF-8 CSV records on their bytes and decodes each record on its own, with the same rules
 * as `CsvRecordReader` (quotes, doubled quotes, relaxed quotes, CRLF/LF/CR, blank lines skipped).
 *
 * Why not decode the text first: V8 stores a string as two bytes a character as soon as one of
 * them is above U+00FF, and text decoded in pieces (and every cell sliced from a piece) is two-byte
 * if any record in the piece has such a letter. A record decoded alone is one-byte unless it holds
 * one itself: half the memory for most cells, copied half as long by every scavenge and by the
 * clone to the commit thread, and not transcoded again when SQLite binds it. Records are found on
 * bytes, which is safe in UTF-8: no byte of a multi-byte character is an ASCII quote, delimiter or
 * line break. It also drops the concatenation of a piece's unfinished record with the next piece,
 * a copy of the whole text.
 */
export class CsvByteRecordReader {
  private readonly delim: number;
  /** Bytes not consumed yet (an unfinished record) at the start of `work`, then the next chunk. */
  private work: Buffer = Buffer.allocUnsafeSlow(256 * 1024);
  private kept = 0;
  private bomChecked = false;
  /** Set by keepRecordBytes: where each record's bytes are copied, in step with the records returned. */
  private raw: RecordBytes | null = null;
  /** Set by keepRecordBytes: per column, the check that spares its cells a string (null: read them). */
  private checks: readonly (CellBytesCheck | null)[] | null = null;

  /**
   * @param delimiter one ASCII character
   * @param maxRecordBytes a record still open after this many bytes is an error: an unclosed quote
   * would otherwise swallow the rest of the file into memory.
   */
  constructor(
    private readonly delimiter: string,
    private readonly maxRecordBytes = 8 * 1024 * 1024,
  ) {
    if (!CsvByteRecordReader.supports(delimiter)) throw new Error('a CSV delimiter split on bytes is one ASCII character');
    this.delim = delimiter.charCodeAt(0);
  }

  /**
   * From now on, copies each record's bytes into `raw` as it is returned (RecordBytes says what
   * for); a record that had quotes gets none.
   *
   * With `checks`, a record without quotes whose cells, one per check, each pass their column's
   * check is returned with those cells as '' (only the columns without a check are read as
   * strings), and is marked checked in `raw`: its bytes say the rest. Any other record is read
   * whole, as without checks.
   */
  keepRecordBytes(raw: RecordBytes, checks?: readonly (CellBytesCheck | null)[]): void {
    this.raw = raw;
    this.checks = checks ?? null;
  }

  static supports(delimiter: string): boolean {
    return delimiter.length === 1 && delimiter.charCodeAt(0) < 0x80 && delimiter !== '"' && delimiter !== '\n' && delimiter !== '\r';
  }

  /** Adds bytes and returns every record now complete. */
  push(chunk: Uint8Array, out: string[][] = []): string[][] {
    const length = this.kept + chunk.length;
    if (length > this.work.length) {
      const bigger = Buffer.allocUnsafeSlow(Math.max(length, this.work.length * 2));
      this.work.copy(bigger, 0, 0, this.kept);
      this.work = bigger;
    }
    this.work.set(chunk, this.kept);
    this.consume(length, out, false);
    if (this.kept > this.maxRecordBytes) {
      throw new CsvRecordTooLongError(`a CSV record runs past ${this.maxRecordBytes} bytes; is a quote left open?`);
    }
    return out;
  }

  /** The input has ended: returns the last record, if the bytes did not end with a line break. */
  end(out: string[][] = []): string[][] {
    this.consume(this.kept, out, true);
    this.kept = 0;
    return out;
  }

  /** Splits what `work` holds up to `length`, and keeps the unconsumed rest at its start. */
  private consume(length: number, out: string[][], final: boolean): void {
    const bytes = this.work.subarray(0, length);
    let from = 0;
    if (!this.bomChecked) {
      if (length < 3 && !final) {
        this.kept = length;
        return;
      }
      this.bomChecked = true;
      if (length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) from = 3;
    }
    this.raw?.begin(from);
    const consumed = this.split(bytes, from, out, final);
    this.raw?.end(bytes, consumed);
    this.kept = length - consumed;
    if (this.kept > 0 && consumed > 0) this.work.copyWithin(0, consumed, length);
  }

  /** Splits complete records of `b` from `pos`; returns where the unfinished rest starts. */
  private split(b: Buffer, pos: number, out: string[][], final: boolean): number {
    const n = b.length;
    // Where the next LF, CR and quote are (n for none): each is searched again only once passed.
    let lf = -1;
    let cr = -1;
    let quote = -1;
    while (pos < n) {
      if (lf < pos) lf = indexOrEnd(b, LF, pos);
      if (cr < pos) cr = indexOrEnd(b, CR, pos);
      if (quote < pos) quote = indexOrEnd(b, QUOTE, pos);
      let end = lf < cr ? lf : cr;
      const quoted = quote < end;
      if (quoted) {
        end = this.quotedRecordEnd(b, pos, final);
        if (end < 0) return pos;
      } else if (end >= n && !final) {
        return pos;
      }
      let next = end;
      if (end < n) {
        if (b[end] === CR) {
          // The LF of a CRLF may be the first byte of the next chunk.
          if (end + 1 >= n && !final) return pos;
          next = end + 1 < n && b[end + 1] === LF ? end + 2 : end + 1;
        } else {
          next = end + 1;
        }
      }
      // An empty line is skipped, as in CsvRecordReader.
      if (end > pos) {
        const checked = !quoted && this.checks !== null ? this.checkedCells(b, pos, end, this.checks) : null;
        if (checked !== null) {
          out.push(checked);
          (this.raw as RecordBytes).addChecked(pos, end);
        } else {
          const text = b.toString('utf8', pos, end);
          if (quoted) {
            const before = out.length;
            splitRecords(text, this.delim, out, true);
            if (this.raw) for (let i = before; i < out.length; i++) this.raw.none(pos);
          } else {
            out.push(splitOn(text, this.delimiter));
            this.raw?.add(pos, end, text);
          }
        }
      }
      pos = next;
    }
    return pos;
  }

  /**
   * The cells of the record `b[pos, end)` (no quotes in it) when each passes its column's check:
   * '' for the checked ones, the others read as strings; null when the record has another number
   * of cells, a cell fails its check, or a cell read is not UTF-8 (U+FFFD where its bytes were not).
   */
  private checkedCells(b: Buffer, pos: number, end: number, checks: readonly (CellBytesCheck | null)[]): string[] | null {
    const cells: string[] = [];
    const delim = this.delim;
    const last = checks.length - 1;
    let from = pos;
    for (let i = 0; i <= last; i++) {
      let at = from;
      while (at < end && b[at] !== delim) at++;
      // The last column's cell ends the record; every other ends at a delimiter.
      if ((at === end) !== (i === last)) return null;
      const check = checks[i] as CellBytesCheck | null;
      if (check === null) {
        const cell = b.toString('utf8', from, at);
        if (cell.includes('\uFFFD')) return null;
        cells.push(cell);
      } else {
        if (!check(b, from, at)) return null;
        cells.push('');
      }
      from = at + 1;
    }
    return cells;
  }

  /**
   * Where the record starting at `pos` ends (its line break, or `b.length` when the input ends
   * it), walking field by field as `splitRecords` does: a quote opens a quoted field only at the
   * field's start. -1 when the record is not complete yet.
   */
  private quotedRecordEnd(b: Buffer, pos: number, final: boolean): number {
    const n = b.length;
    const delim = this.delim;
    let p = pos;
    for (;;) {
      if (p < n && b[p] === QUOTE) {
        let from = p + 1;
        for (;;) {
          const q = b.indexOf(QUOTE, from);
          // An unclosed quote at the end of the input keeps the rest (relax_quotes).
          if (q < 0) return final ? n : -1;
          if (q + 1 < n && b[q + 1] === QUOTE) {
            from = q + 2;
            continue;
          }
          // The next chunk may start with a doubled quote.
          if (q + 1 >= n && !final) return -1;
          p = q + 1;
          break;
        }
      }
      while (p < n) {
        const c = b[p];
        if (c === delim || c === LF || c === CR) break;
        p++;
      }
      if (p >= n) return final ? n : -1;
      if (b[p] !== delim) return p;
      p++;
    }
  }
}

/**
 * `text.split(delimiter)` for a record without quotes, by indexOf and slice: String.prototype.split
 * is a runtime call that took 15–25% longer per record (measured on the bench's records).
 */
export function splitOn(text: string, delimiter: string): string[] {
  const cells: string[] = [];
  let from = 0;
  for (;;) {
    const at = text.indexOf(delimiter, from);
    if (at < 0) {
      cells.push(text.slice(from));
      return cells;
    }
    cells.push(text.slice(from, at));
    from = at + 1;
  }
}

function indexOrEnd(b: Buffer, byte: number, from: number): number {
  const i = b.indexOf(byte, from);
  return i < 0 ? b.length : i;
}

/**
 * The bytes of the records read, as the CSV holds them, to hand over with each batch: each record's
 * start and end in `bytes`, the end -1 for a record that had quotes or whose bytes may not be
 * UTF-8. A store may write a record whose cells all go into its columns as they were read from
 * these bytes, without encoding each value again (RecordRows.lines). The reader copies what it
 * splits a chunk at a time, not a record at a time.
 */
export class RecordBytes {
  private bytes: Buffer;
  private starts: number[] = [];
  private ends: number[] = [];
  private checked: boolean[] = [];
  /** Bytes held. */
  private at = 0;
  /** Where the chunk being split starts in `bytes`, less its first byte's offset in the chunk. */
  private base = 0;
  private from = 0;
  private readonly free: Buffer[] = [];

  constructor(private readonly capacity = 512 * 1024) {
    this.bytes = Buffer.allocUnsafeSlow(capacity);
  }

  /** The records of `b` from `from` on are being split. */
  begin(from: number): void {
    this.from = from;
    this.base = this.at - from;
  }

  add(start: number, end: number, text: string): void {
    this.starts.push(this.base + start);
    // U+FFFD in the text may stand for bytes that are not UTF-8, which a store would refuse: such
    // a record is written from its values. (A one-byte string is answered without a search.)
    this.ends.push(text.includes('\uFFFD') ? -1 : this.base + end);
    this.checked.push(false);
  }

  none(start: number): void {
    this.starts.push(this.base + start);
    this.ends.push(-1);
    this.checked.push(false);
  }

  /** A record whose cells passed their checks (CsvByteRecordReader.keepRecordBytes): UTF-8, every byte. */
  addChecked(start: number, end: number): void {
    this.starts.push(this.base + start);
    this.ends.push(this.base + end);
    this.checked.push(true);
  }

  /** The records of `b` up to `end` (where the split stopped) are split: keeps their bytes. */
  end(b: Buffer, end: number): void {
    const n = end - this.from;
    if (n <= 0) return;
    if (this.at + n > this.bytes.length) this.grow(this.at + n);
    b.copy(this.bytes, this.at, this.from, end);
    this.at += n;
  }

  /**
   * Takes the first `count` records away, leaving the rest here. The batch's buffer comes back by
   * its `release` once nothing reads it (a new buffer each batch is memory outside V8's heap, which
   * V8 answers with full collections: copy-pieces.ts).
   */
  take(count: number): BatchRecordBytes {
    const cut = count < this.starts.length ? (this.starts[count] as number) : this.at;
    const whole = this.bytes;
    let released = false;
    const keep = (buffer: Buffer): void => {
      // Once: a buffer in the free list twice would be two batches' at once. A buffer moved to
      // another thread and not handed back is detached here, of length 0: not kept.
      if (released) return;
      released = true;
      if (this.free.length < 4 && buffer.length === this.capacity) this.free.push(buffer);
    };
    const taken: BatchRecordBytes = {
      bytes: whole.subarray(0, cut),
      starts: this.starts.slice(0, count),
      ends: this.ends.slice(0, count),
      checked: this.checked.slice(0, count),
      release: () => keep(whole),
      giveBack: (buffer) => keep(Buffer.from(buffer)),
    };
    const rest = this.at - cut > this.capacity / 2 ? Buffer.allocUnsafeSlow(2 * (this.at - cut)) : this.free.pop() ?? Buffer.allocUnsafeSlow(this.capacity);
    this.bytes.copy(rest, 0, cut, this.at);
    this.bytes = rest;
    this.starts = this.starts.slice(count).map((s) => s - cut);
    this.ends = this.ends.slice(count).map((e) => (e < 0 ? -1 : e - cut));
    this.checked = this.checked.slice(count);
    this.at -= cut;
    return taken;
  }

  private grow(least: number): void {
    const bigger = Buffer.allocUnsafeSlow(Math.max(least, this.bytes.length * 2));
    this.bytes.copy(bigger, 0, 0, this.at);
    this.bytes = bigger;
  }
}

export interface BatchRecordBytes {
  readonly bytes: Buffer;
  readonly starts: readonly number[];
  /** -1 for a record not to write from its bytes. */
  readonly ends: readonly number[];
  /** The record's cells passed their checks, and those are '' among its cells (keepRecordBytes). */
  readonly checked: readonly boolean[];
  /** Nothing reads `bytes` any more (the batch is committed): the reader may use them again. */
  release(): void;
  /** The buffer under `bytes`, moved to another thread and back (RecordLines.giveBack): used again instead, and release does nothing. */
  giveBack(buffer: ArrayBuffer): void;
}
