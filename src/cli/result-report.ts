import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { ResultRow } from '@bulkwright/client';
import { stringify } from 'csv-stringify';

export interface ReportOutcome {
  readonly rows: number;
  readonly skipped: number;
  /** The first skipped rows, to show on the terminal. */
  readonly firstSkipped: readonly ResultRow[];
}

/**
 * Writes result rows as one CSV with a leading ROW column (the 1-based input data row), then the
 * echoed columns, STATUS, RECORD_ID and ERRORS as Zoho writes them; `out` null only counts.
 */
export async function writeReport(rows: AsyncIterable<ResultRow>, out: string | Writable | null, keepSkipped = 20): Promise<ReportOutcome> {
  const target = typeof out === 'string' ? createWriteStream(out) : out;
  const csv = target ? stringify() : null;
  if (csv && target) csv.pipe(target, { end: typeof out === 'string' });
  let count = 0;
  let skipped = 0;
  const firstSkipped: ResultRow[] = [];
  let wroteHeader = false;
  for await (const row of rows) {
    if (csv && !wroteHeader) {
      csv.write(['ROW', ...row.columns, 'STATUS', 'RECORD_ID', 'ERRORS']);
      wroteHeader = true;
    }
    if (csv && !csv.write([String(row.row), ...row.values, row.status, row.recordId ?? '', row.errorText])) {
      await new Promise((resolve) => csv.once('drain', resolve));
    }
    count++;
    if (row.status === 'SKIPPED') {
      skipped++;
      if (firstSkipped.length < keepSkipped) firstSkipped.push(row);
    }
  }
  if (csv) {
    if (!wroteHeader) csv.write(['ROW', 'STATUS', 'RECORD_ID', 'ERRORS']);
    csv.end();
    await finished(typeof out === 'string' && target ? target : csv);
  }
  return { rows: count, skipped, firstSkipped };
}
