/**
 * Rows as the bytes of a CSV, each record's start and end in them as csv-byte-reader.ts RecordBytes
 * gives them: the end -1 for the rows in `without` (records that had quotes), none checked.
 */
export function recordBytesOf(
  rows: readonly (readonly string[])[],
  delimiter = ',',
  without: readonly number[] = [],
): { bytes: Buffer; starts: number[]; ends: number[]; checked: boolean[] } {
  const parts = rows.map((r) => Buffer.from(`${r.join(delimiter)}\n`, 'utf8'));
  const starts: number[] = [];
  const ends: number[] = [];
  let at = 0;
  parts.forEach((p, k) => {
    starts.push(at);
    ends.push(without.includes(k) ? -1 : at + p.length - 1);
    at += p.length;
  });
  return { bytes: Buffer.concat(parts), starts, ends, checked: rows.map(() => false) };
}
