import { stringify } from 'csv-stringify/sync';
import { PassThrough } from 'node:stream';
import yazl from 'yazl';
import { formatRowErrors, type RowOutcome } from '../domain/row-result.js';
import type { FieldMapping } from '../domain/job.js';
import type { BlobStore } from '../ports/blob-store.js';

/** Columns of the input echoed in the result: the first three mapped columns (reference §7.2). */
export function echoedColumns(mappings: readonly FieldMapping[]): number[] {
  const indexes = [...new Set(mappings.map((m) => m.index).filter((i): i is number => i !== null))].sort((a, b) => a - b);
  return indexes.slice(0, 3);
}

export function resultHeaderLine(header: readonly string[], echoed: readonly number[]): Buffer {
  return Buffer.from(stringify([[...echoed.map((i) => header[i] ?? ''), 'STATUS', 'RECORD_ID', 'ERRORS']]), 'utf8');
}

export function resultLines(rows: readonly (readonly string[])[], outcomes: readonly RowOutcome[], echoed: readonly number[]): Buffer {
  const records = outcomes.map((o, k) => {
    const raw = rows[k] ?? [];
    return [...echoed.map((i) => raw[i] ?? ''), o.status, o.recordId ?? '', formatRowErrors(o.errors)];
  });
  return Buffer.from(stringify(records), 'utf8');
}

export function resultEntryName(moduleApiName: string, csvName: string): string {
  return `${moduleApiName}-${csvName}`;
}

/** Zips the per-resource result CSVs into the job's download, streaming each from the blob store. */
export async function writeResultZip(
  blobs: BlobStore,
  zipKey: string,
  entries: readonly { readonly name: string; readonly key: string }[],
): Promise<number> {
  const zip = new yazl.ZipFile();
  const names = new Set<string>();
  for (const e of entries) {
    let name = e.name;
    for (let n = 2; names.has(name); n++) name = e.name.replace(/(\.csv)?$/i, `-${n}$1`);
    names.add(name);
    zip.addReadStream(blobs.createReadStream(e.key), name);
  }
  zip.end();
  const out = new PassThrough();
  zip.outputStream.pipe(out);
  const { size } = await blobs.write(zipKey, out);
  return size;
}
