import { parse, type Parser } from 'csv-parse';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { decoderFor } from './charset.js';

export interface CsvReadOptions {
  readonly encoding: string;
  readonly delimiter: string;
}

/** The parser settings every reader shares: Zoho-style CSV, CRLF or LF, quoted fields may span lines. */
function csvParser(delimiter: string): Parser {
  return parse({
    delimiter,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    bom: true,
  });
}

/**
 * Streams the records (header first) of a CSV byte stream. Backpressure runs end to end: the
 * zip entry is only inflated as fast as the caller consumes records.
 */
export async function* readCsvRecords(source: Readable, opts: CsvReadOptions): AsyncGenerator<string[]> {
  const parser = csvParser(opts.delimiter);
  const done = pipeline(source, decoderFor(opts.encoding), parser);
  let failed: unknown = null;
  done.catch((e: unknown) => {
    failed = e;
  });
  try {
    for await (const record of parser) yield record as string[];
    await done;
  } finally {
    if (!parser.destroyed) parser.destroy();
    if (!source.destroyed) source.destroy();
  }
  if (failed) throw failed;
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
