import type { RecordRows } from '../ports/store.js';

/**
 * Which columns row `r` gives a value for, as a string of 0s and 1s, or ALL_GIVEN when it gives
 * all of them (every row does unless ignore_empty or an empty Owner cell leaves some alone).
 * Rows with the same mask are written by the same statement.
 */
export function givenMask(rows: RecordRows, r: number): string {
  const w = rows.columns.length;
  const at = r * w;
  let c = 0;
  while (c < w && rows.values[at + c] !== undefined) c++;
  if (c === w) return ALL_GIVEN;
  let mask = '1'.repeat(c);
  for (; c < w; c++) mask += rows.values[at + c] === undefined ? '0' : '1';
  return mask;
}

export const ALL_GIVEN = '';

/** The indexes of the columns a mask from givenMask says are given. */
export function givenColumns(mask: string, width: number): number[] {
  const out: number[] = [];
  for (let c = 0; c < width; c++) if (mask === ALL_GIVEN || mask[c] === '1') out.push(c);
  return out;
}
