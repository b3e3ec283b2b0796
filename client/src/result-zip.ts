import { parse } from 'csv-parse';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { ZohoApiError } from './errors.js';
import type { ResultRow, RowError, RowStatus } from './models.js';

/** `CODE-Column[,Column][:CODE-Column]` (reference §7.2) → one entry per code. */
export function parseRowErrors(text: string): RowError[] {
  if (text.trim() === '') return [];
  return text.split(':').map((group) => {
    const dash = group.indexOf('-');
    if (dash < 0) return { code: group.trim(), columns: [] };
    return { code: group.slice(0, dash).trim(), columns: group.slice(dash + 1).split(',').map((c) => c.trim()).filter((c) => c !== '') };
  });
}

function openZip(file: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) =>
    yauzl.open(file, { lazyEntries: true }, (err, zip) => (err || !zip ? reject(err ?? new Error('no zip')) : resolve(zip))),
  );
}

function nextEntry(zip: yauzl.ZipFile): Promise<yauzl.Entry | null> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      zip.off('entry', onEntry);
      zip.off('end', onEnd);
      zip.off('error', onError);
    };
    const onEntry = (entry: yauzl.Entry) => {
      cleanup();
      resolve(entry);
    };
    const onEnd = () => {
      cleanup();
      resolve(null);
    };
    const onError = (e: Error) => {
      cleanup();
      reject(e);
    };
    zip.on('entry', onEntry);
    zip.on('end', onEnd);
    zip.on('error', onError);
    zip.readEntry();
  });
}

function entryStream(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Readable> {
  return new Promise((resolve, reject) =>
    zip.openReadStream(entry, (err, stream) => (err || !stream ? reject(err ?? new Error('no stream')) : resolve(stream))),
  );
}

const STATUSES: ReadonlySet<string> = new Set(['ADDED', 'UPDATED', 'SKIPPED', 'UNPROCESSED']);

/** The rows of every result CSV in a downloaded result zip, streamed entry by entry, in file order. */
export async function* readResultZip(file: string, source: string): AsyncGenerator<ResultRow> {
  let zip: yauzl.ZipFile;
  try {
    zip = await openZip(file);
  } catch (e) {
    throw new ZohoApiError(200, 'UNEXPECTED_RESPONSE', `the result of ${source} is not a zip: ${e instanceof Error ? e.message : String(e)}`, {}, source);
  }
  try {
    for (let entry = await nextEntry(zip); entry; entry = await nextEntry(zip)) {
      if (!/\.csv$/i.test(entry.fileName)) continue;
      yield* readResultCsv(await entryStream(zip, entry), entry.fileName, source);
    }
  } finally {
    zip.close();
  }
}

async function* readResultCsv(stream: Readable, name: string, source: string): AsyncGenerator<ResultRow> {
  const parser = stream.pipe(parse({ bom: true, relax_column_count: true }));
  let columns: string[] | null = null;
  let statusAt = -1;
  let row = 0;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      if (columns === null) {
        statusAt = record.indexOf('STATUS');
        if (statusAt < 0) throw new ZohoApiError(200, 'UNEXPECTED_RESPONSE', `${name} in the result of ${source} has no STATUS column`, {}, source);
        columns = record.slice(0, statusAt);
        continue;
      }
      const status = record[statusAt] ?? '';
      const errorText = record[statusAt + 2] ?? '';
      yield {
        row: ++row,
        file: name,
        columns,
        values: record.slice(0, statusAt),
        status: (STATUSES.has(status) ? status : 'UNPROCESSED') as RowStatus,
        recordId: record[statusAt + 1] || null,
        errorText,
        errors: parseRowErrors(errorText),
      };
    }
  } finally {
    stream.destroy();
  }
}
