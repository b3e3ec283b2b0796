import { Errors } from '../domain/errors.js';
import type { Readable } from 'node:stream';
import type { Limits } from '../domain/limits.js';
import type { BlobStore } from '../ports/blob-store.js';
import { decodeSample, detectEncoding } from './charset.js';
import { readCsvRecords, readHead } from './csv-source.js';
import { detectDelimiter } from './delimiter.js';
import { isCsvName, openZipBlob, TooManyZipEntriesError } from './zip-source.js';

export interface CsvInspection {
  readonly csvName: string;
  readonly header: readonly string[];
  readonly delimiter: string;
  readonly encoding: string;
}

const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
// An archive with no entries starts with its end record; it is a zip, just an empty one.
const EMPTY_ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x05, 0x06]);
const SAMPLE_BYTES = 64 * 1024;

/** A zip is recognised by its bytes, never by the part's name or type (official-sdk-wire.md §2.1). */
export function looksLikeZip(head: Buffer): boolean {
  return head.length >= 4 && (head.subarray(0, 4).equals(ZIP_MAGIC) || head.subarray(0, 4).equals(EMPTY_ZIP_MAGIC));
}

const MAX_ASCII_SCAN = 64 * 1024 * 1024;

function firstHighByte(buf: Buffer): number {
  for (let i = 0; i < buf.length; i++) if ((buf[i] as number) >= 0x80) return i;
  return -1;
}

/**
 * The sample an encoding is told from, for a file whose first 64 KB are plain ASCII: the bytes
 * around its first non-ASCII byte (or the head again when there is none, which reads as UTF-8).
 * Streaming to that byte costs one inflate of the entry at worst, and only for such files.
 */
async function firstNonAsciiWindow(entry: Readable, head: Buffer): Promise<Buffer> {
  let carry = Buffer.alloc(0);
  let scanned = 0;
  let window: Buffer[] | null = null;
  let size = 0;
  try {
    for await (const chunk of entry) {
      if (window) {
        window.push(chunk as Buffer);
        size += (chunk as Buffer).length;
      } else {
        const buf = Buffer.concat([carry, chunk as Buffer]);
        const at = firstHighByte(buf);
        if (at < 0) {
          carry = buf.subarray(Math.max(0, buf.length - 1024));
          // Past this much plain ASCII the file is read as UTF-8 (ASCII is valid UTF-8), rather
          // than inflating a huge entry on the thread that answers HTTP.
          scanned += (chunk as Buffer).length;
          if (scanned > MAX_ASCII_SCAN) break;
          continue;
        }
        window = [buf.subarray(Math.max(0, at - 1024))];
        size = (window[0] as Buffer).length;
      }
      if (size >= SAMPLE_BYTES) break;
    }
  } finally {
    entry.destroy();
  }
  return window ? Buffer.concat(window).subarray(0, SAMPLE_BYTES) : head;
}

/**
 * Finds the one CSV of an uploaded zip and reads its header and first data row, so that
 * create-job can check mappings synchronously and a file with nothing to import is refused early.
 */
export async function inspectUpload(blobs: BlobStore, key: string, size: number, limits: Limits): Promise<CsvInspection> {
  let zip;
  try {
    zip = await openZipBlob(blobs, key, size);
  } catch (e) {
    if (e instanceof TooManyZipEntriesError) throw Errors.fileNotSupported(`${e.message}; it must hold one CSV file`, {});
    throw Errors.fileNotSupported(`the zip file could not be read: ${e instanceof Error ? e.message : String(e)}`, {});
  }
  try {
    const csvs = zip.entries.filter((e) => isCsvName(e.name));
    if (zip.entries.length === 0) throw Errors.fileNotSupported('the zip file is empty; it must hold one CSV file', {});
    if (csvs.length === 0) {
      const found = zip.entries.slice(0, 5).map((e) => e.name).join(', ');
      throw Errors.fileNotSupported(`the zip file holds no CSV file (found ${found}${zip.entries.length > 5 ? ', …' : ''})`, {});
    }
    if (csvs.length > 1) {
      throw Errors.fileNotSupported(
        `the zip file holds ${csvs.length} CSV files (${csvs.map((e) => e.name).join(', ')}); only one CSV per zip is supported`,
        { file_names: csvs.map((e) => e.name) },
      );
    }
    const csv = csvs[0] as (typeof csvs)[number];
    const csvName = csv.name.split('/').pop() ?? csv.name;
    const head = await readHead(await zip.openEntry(csv), SAMPLE_BYTES);
    const encoding = detectEncoding(firstHighByte(head) < 0 && head.length === SAMPLE_BYTES ? await firstNonAsciiWindow(await zip.openEntry(csv), head) : head);
    const sample = head;
    const delimiter = detectDelimiter(decodeSample(sample, encoding));

    const first: string[][] = [];
    try {
      for await (const record of readCsvRecords(await zip.openEntry(csv), { encoding, delimiter })) {
        first.push(record);
        if (first.length === 2) break;
      }
    } catch (e) {
      throw Errors.fileNotSupported(`${csvName} is not a readable CSV file: ${e instanceof Error ? e.message : String(e)}`, { file_name: csvName });
    }
    const header = first[0];
    if (!header || header.every((h) => h.trim() === '')) {
      throw Errors.fileNotSupported(`${csvName} is empty; it needs a header row and at least one data row`, { file_name: csvName });
    }
    if (first.length < 2) {
      throw Errors.fileNotSupported(`${csvName} has a header row but no data rows`, { file_name: csvName });
    }
    if (header.length > limits.maxColumns) {
      throw Errors.fileNotSupported(`${csvName} has ${header.length} columns; at most ${limits.maxColumns} are allowed`, {
        file_name: csvName,
      });
    }
    return { csvName, header: header.map((h) => h.trim()), delimiter, encoding };
  } finally {
    zip.close();
  }
}
