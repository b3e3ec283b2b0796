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
    const consumed = this.split(bytes, from, out, final);
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
        const text = b.toString('utf8', pos, end);
        if (quoted) splitRecords(text, this.delim, out, true);
        else out.push(splitOn(text, this.delimiter));
      }
      pos = next;
    }
    return pos;
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
function splitOn(text: string, delimiter: string): string[] {
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
