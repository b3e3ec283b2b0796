import { parse, type Parser } from 'csv-parse';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { TextDecoder } from 'node:util';
import { CsvInputError } from './errors.js';

/** One piece of a split CSV: the header, then at most `rowLimit` data rows, byte for byte as in the input. */
export interface CsvChunk {
  readonly path: string;
  /** The CSV's name inside the zip (and so in job details and the result file). */
  readonly name: string;
  /** 1-based number, in the whole input, of the chunk's first data row. */
  readonly firstRow: number;
  readonly rows: number;
}

export interface SplitCsv {
  /** Header cells, decoded as UTF-8 where they are valid UTF-8. */
  readonly header: readonly string[];
  readonly delimiter: string;
  readonly totalRows: number;
  readonly chunks: readonly CsvChunk[];
}

const DELIMITERS = [',', ';', ':', '|'] as const;

/**
 * The delimiter Zoho would detect: the one of `, ; : |` most frequent outside quotes in the header
 * line, comma on a tie (reference §9.1). The server has the same rule; the client cannot import it.
 */
export function detectDelimiter(text: string): string {
  const counts = new Map<string, number>(DELIMITERS.map((d) => [d, 0]));
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === '\n' || ch === '\r')) break;
    else if (!quoted && counts.has(ch)) counts.set(ch, (counts.get(ch) as number) + 1);
  }
  let best = ',';
  for (const d of DELIMITERS) if ((counts.get(d) as number) > (counts.get(best) as number)) best = d;
  return best;
}

/** UTF-16 files are re-encoded as UTF-8 with a BOM: byte-level splitting needs an ASCII-compatible encoding. */
function utf16Of(head: Buffer): 'utf-16le' | 'utf-16be' | null {
  if (head[0] === 0xff && head[1] === 0xfe) return 'utf-16le';
  if (head[0] === 0xfe && head[1] === 0xff) return 'utf-16be';
  return null;
}

async function* inputBytes(file: string): AsyncGenerator<Buffer> {
  const stream = createReadStream(file);
  let decoder: TextDecoder | null = null;
  let first = true;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    if (first) {
      first = false;
      const utf16 = utf16Of(chunk);
      if (utf16) {
        decoder = new TextDecoder(utf16, { ignoreBOM: true });
        yield Buffer.from([0xef, 0xbb, 0xbf]);
        yield Buffer.from(decoder.decode(chunk.subarray(2), { stream: true }), 'utf8');
        continue;
      }
    }
    yield decoder ? Buffer.from(decoder.decode(chunk, { stream: true }), 'utf8') : chunk;
  }
  if (decoder) yield Buffer.from(decoder.decode(), 'utf8');
}

/** Header cells were parsed as latin1 (byte for byte); show them as the UTF-8 the file most likely holds. */
function headerText(cells: readonly string[]): string[] {
  return cells.map((cell, i) => {
    const bytes = Buffer.from(cell, 'latin1');
    const text = bytes.toString('utf8');
    const shown = text.includes('\uFFFD') ? cell : text;
    return i === 0 ? shown.replace(/^\uFEFF/, '') : shown;
  });
}

/** Writes rows into `part-N.csv` files of at most `rowLimit` rows, each starting with the header bytes. */
class ChunkWriter {
  readonly chunks: CsvChunk[] = [];
  private out: WriteStream | null = null;
  private current: { path: string; name: string; firstRow: number; rows: number } | null = null;
  private readonly closing: Promise<void>[] = [];

  constructor(
    private readonly outDir: string,
    private readonly baseName: string,
    private readonly rowLimit: number,
    private readonly header: Buffer,
  ) {}

  add(bytes: Buffer, rowNumber: number): void {
    if (!this.out || !this.current || this.current.rows >= this.rowLimit) {
      this.closeCurrent();
      const n = this.chunks.length + 1;
      const file = path.join(this.outDir, `part-${n}.csv`);
      this.current = { path: file, name: `${this.baseName}-part${n}.csv`, firstRow: rowNumber, rows: 0 };
      this.out = createWriteStream(file);
      this.out.write(this.header);
    }
    this.current.rows++;
    this.out.write(bytes);
  }

  async drained(): Promise<void> {
    if (this.out?.writableNeedDrain) await once(this.out, 'drain');
  }

  async close(): Promise<void> {
    this.closeCurrent();
    await Promise.all(this.closing);
  }

  private closeCurrent(): void {
    if (!this.out || !this.current) return;
    this.out.end();
    this.closing.push(finished(this.out));
    this.chunks.push({ ...this.current });
    this.out = null;
    this.current = null;
  }
}

/**
 * Splits a CSV into files of at most `rowLimit` data rows, each with the header, in one streaming
 * pass. Rows are found with csv-parse (quoted fields may span lines; blank lines are skipped, as
 * the server skips them) and copied as their exact input bytes, located by the parser's byte
 * offsets: it reads the input as latin1, one character per byte, so no cell is re-quoted or
 * re-encoded.
 */
export async function splitCsv(file: string, outDir: string, options: { rowLimit: number; name: string }): Promise<SplitCsv> {
  // Input bytes not yet handed to a record (`windowStart` is the input offset of window[0]). Bytes
  // join the window before the parser sees them and leave it only once a record took them, so a
  // record's bytes are always at hand when the parser reports where it ends.
  let window = Buffer.alloc(0);
  let windowStart = 0;
  let consumed = 0;
  const take = (end: number): Buffer => {
    const bytes = window.subarray(consumed - windowStart, end - windowStart);
    consumed = end;
    return bytes;
  };

  const state: { header: string[] | null; writer: ChunkWriter | null; rows: number } = { header: null, writer: null, rows: 0 };
  const onRecord = (record: string[], end: number): void => {
    const bytes = take(end);
    if (state.header === null) {
      state.header = record;
      state.writer = new ChunkWriter(outDir, options.name.replace(/\.csv$/i, ''), options.rowLimit, bytes);
      return;
    }
    state.writer?.add(bytes, ++state.rows);
  };

  let parser: Parser | null = null;
  let delimiter = ',';
  try {
    for await (const bytes of inputBytes(file)) {
      window = Buffer.concat([window.subarray(consumed - windowStart), bytes]);
      windowStart = consumed;
      if (!parser) {
        delimiter = detectDelimiter(window.toString('latin1').replace(/^\u00ef\u00bb\u00bf/, ''));
        parser = parse({
          delimiter,
          encoding: 'latin1',
          relax_column_count: true,
          relax_quotes: true,
          skip_empty_lines: true,
          // Returning null drops the record from the stream: nothing downstream needs to read it.
          on_record: (record: string[], info) => {
            onRecord(record, info.bytes);
            return null;
          },
        });
        parser.resume();
      }
      if (!parser.write(bytes)) await once(parser, 'drain');
      await state.writer?.drained();
    }
    if (parser) {
      parser.end();
      await finished(parser);
    }
  } catch (e) {
    throw new CsvInputError(`${file} is not a CSV that can be read: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    await state.writer?.close();
  }
  if (state.header === null) throw new CsvInputError(`${file} is empty: a CSV needs a header row and at least one data row`);
  const chunks = state.writer?.chunks ?? [];
  if (state.rows === 0) throw new CsvInputError(`${file} has a header but no data rows`);
  // One chunk keeps the input's own name, so job details and the result file name it as the user did.
  const named = chunks.length === 1 ? chunks.map((c) => ({ ...c, name: options.name })) : chunks;
  return { header: headerText(state.header), delimiter, totalRows: state.rows, chunks: named };
}
