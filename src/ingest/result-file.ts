import { PassThrough, type Readable } from 'node:stream';
import yazl from 'yazl';
import { formatRowErrors, type RowOutcome } from '../domain/row-result.js';
import type { FieldMapping } from '../domain/job.js';
import type { BlobStore } from '../ports/blob-store.js';

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

export function resultLines(rows: readonly (readonly string[])[], outcomes: readonly RowOutcome[], echoed: readonly number[]): Buffer {
  let text = '';
  for (let k = 0; k < outcomes.length; k++) {
    const o = outcomes[k] as RowOutcome;
    const raw = rows[k] ?? [];
    let line = '';
    for (const i of echoed) line += `${cell(raw[i] ?? '')},`;
    text += `${line}${o.status},${o.recordId ?? ''},${o.errors.length ? cell(formatRowErrors(o.errors)) : ''}\n`;
  }
  return Buffer.from(text, 'utf8');
}

export function resultEntryName(moduleApiName: string, csvName: string): string {
  return `${moduleApiName}-${csvName}`;
}

/** Zips the per-resource result CSVs into the job's download, streaming each in. */
export async function writeResultZip(
  blobs: BlobStore,
  zipKey: string,
  entries: readonly { readonly name: string; readonly open: () => Readable }[],
): Promise<number> {
  const zip = new yazl.ZipFile();
  const out = new PassThrough();
  // yazl listens to none of its inputs' errors: route them (a result CSV gone missing) into the
  // stream being written, so the write fails instead of the thread.
  const fail = (e: Error): void => {
    out.destroy(e);
  };
  const names = new Set<string>();
  for (const e of entries) {
    let name = e.name;
    for (let n = 2; names.has(name); n++) name = e.name.replace(/(\.csv)?$/i, `-${n}$1`);
    names.add(name);
    const source = e.open();
    source.on('error', fail);
    // Fastest deflate: a result CSV still shrinks several times, in a third of the default's time.
    zip.addReadStream(source, name, { compressionLevel: 1 });
  }
  zip.end();
  zip.outputStream.on('error', fail);
  zip.outputStream.pipe(out);
  const { size } = await blobs.write(zipKey, out);
  return size;
}
