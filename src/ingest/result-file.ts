import { Readable } from 'node:stream';
import { formatRowErrors, type RowOutcome } from '../domain/row-result.js';
import type { FieldMapping } from '../domain/job.js';
import type { BlobStore } from '../ports/blob-store.js';
import { zipStream } from './zip-writer.js';

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

/**
 * A batch's result lines, written straight into one buffer: built as strings first, they were a
 * sixth of an insert job's allocations (measured in bench/), all garbage once encoded.
 */
export function resultLines(rows: readonly (readonly string[])[], outcomes: readonly RowOutcome[], echoed: readonly number[]): Buffer {
  let out = Buffer.allocUnsafe(Math.max(4096, outcomes.length * 96));
  let at = 0;
  /** Room for `bytes` more; a string of n UTF-16 units takes at most 3n bytes in UTF-8. */
  const room = (bytes: number): void => {
    if (at + bytes <= out.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(out.length * 2, at + bytes));
    out.copy(bigger, 0, 0, at);
    out = bigger;
  };
  for (let k = 0; k < outcomes.length; k++) {
    const o = outcomes[k] as RowOutcome;
    const raw = rows[k] ?? [];
    for (const i of echoed) {
      const text = cell(raw[i] ?? '');
      room(text.length * 3 + 1);
      at += out.write(text, at, 'utf8');
      out[at++] = COMMA;
    }
    const id = o.recordId ?? '';
    room(o.status.length + id.length + 3);
    at += out.write(o.status, at, 'latin1');
    out[at++] = COMMA;
    at += out.write(id, at, 'latin1');
    out[at++] = COMMA;
    if (o.errors.length > 0) {
      const errors = cell(formatRowErrors(o.errors));
      room(errors.length * 3);
      at += out.write(errors, at, 'utf8');
    }
    room(1);
    out[at++] = NEWLINE;
  }
  return out.subarray(0, at);
}

export function resultEntryName(moduleApiName: string, csvName: string): string {
  return `${moduleApiName}-${csvName}`;
}

/** Zips the per-resource result CSVs into the job's download, streaming each in. */
export async function writeResultZip(
  blobs: BlobStore,
  zipKey: string,
  entries: readonly { readonly name: string; readonly size: number; readonly open: () => Readable }[],
): Promise<number> {
  const names = new Set<string>();
  const unique = entries.map((e) => {
    let name = e.name;
    for (let n = 2; names.has(name); n++) name = e.name.replace(/(\.csv)?$/i, `-${n}$1`);
    names.add(name);
    return { ...e, name };
  });
  const { size } = await blobs.write(zipKey, Readable.from(zipStream(unique)));
  return size;
}
