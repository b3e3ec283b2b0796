import type { CellValue } from '../domain/coercion.js';
import { foldKey } from '../domain/metadata.js';
import type { RecordKeys, RecordRows } from '../ports/store.js';

/**
 * Which columns row `r` gives a value for, as a string of 0s and 1s, or ALL_GIVEN when it gives
 * all of them (every row does unless ignore_empty or an empty Owner cell leaves some alone).
 * Rows with the same mask are written by the same statement.
 */
export function givenMask(rows: RecordRows, r: number): string {
  const w = rows.columns.length;
  let c = 0;
  while (c < w && cell(rows, c, r) !== undefined) c++;
  if (c === w) return ALL_GIVEN;
  let mask = '1'.repeat(c);
  for (; c < w; c++) mask += cell(rows, c, r) === undefined ? '0' : '1';
  return mask;
}

export const ALL_GIVEN = '';

/**
 * The columns an insert fills from its creation where it gives none (RecordRows.shared): column →
 * creation column. A new record's modification is its creation, and its owner its creator.
 * SQLite stores the creation's value there; PostgreSQL stores NULL and reads the creation's
 * (postgres/record-columns.ts columnSql).
 */
export const CREATION_OF: ReadonlyMap<string, string> = new Map([
  ['Modified_Time', 'Created_Time'],
  ['Modified_By', 'Created_By'],
  ['Owner', 'Created_By'],
]);

/** Row r's value of columns[c]. */
export function cell(rows: RecordRows, c: number, r: number): CellValue | undefined {
  return (rows.values[c] as readonly (CellValue | undefined)[])[r];
}

/** The indexes of the columns a mask from givenMask says are given. */
export function givenColumns(mask: string, width: number): number[] {
  const out: number[] = [];
  for (let c = 0; c < width; c++) if (mask === ALL_GIVEN || mask[c] === '1') out.push(c);
  return out;
}

/** What a key column holds for a value: foldKey of it, or null for no value. */
export function keyValue(v: CellValue | undefined): string | null {
  return v === undefined || v === null ? null : foldKey(v);
}

/**
 * The columns among `columns` (by index) that have a key column to fill (`keyOf`: field → its key
 * column), less the `kept` fields, whose keys the batch does not change.
 */
export function keyedColumns(columns: readonly string[], keyOf: ReadonlyMap<string, string>, kept: readonly string[]): number[] {
  const out: number[] = [];
  for (let c = 0; c < columns.length; c++) {
    const field = columns[c] as string;
    if (keyOf.has(field) && !kept.includes(field)) out.push(c);
  }
  return out;
}

/**
 * What findKeys selects: the id (as `id`, the column itself unless `id` says how), then for each
 * key field its key column where it has one (the unique index then answers alone), else the field
 * itself, as k0, k1, …
 */
export function keysSelect(
  keyFields: readonly string[],
  keyOf: ReadonlyMap<string, string>,
  quote: (name: string) => string,
  id = '"id"',
): string {
  return [id, ...keyFields.map((f, i) => `${quote(keyOf.get(f) ?? f)} AS ${quote(`k${i}`)}`)].join(', ');
}

/** A row selected by keysSelect as RecordKeys: a key column holds the key; another value is folded here. */
export function rowKeys(
  row: Readonly<Record<string, unknown>>,
  keyFields: readonly string[],
  keyOf: ReadonlyMap<string, string>,
  decode: (field: string, v: unknown) => CellValue,
): RecordKeys {
  const keys: Record<string, string | null> = {};
  for (let i = 0; i < keyFields.length; i++) {
    const f = keyFields[i] as string;
    const v = row[`k${i}`];
    if (v === null || v === undefined) keys[f] = null;
    else if (keyOf.has(f)) keys[f] = v as string;
    else keys[f] = foldKey(decode(f, v) as string | number | boolean);
  }
  return { id: String(row.id), keys };
}
