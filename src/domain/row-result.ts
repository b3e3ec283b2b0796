/** Per-row outcome codes of the result CSV (CONTRACT.md "Rows and results", reference §7.2). */
export type RowErrorCode =
  | 'MANDATORY_NOT_FOUND'
  | 'INVALID_DATA'
  | 'DUPLICATE_DATA'
  | 'RESOURCE_NOT_FOUND'
  | 'LIMIT_EXCEEDED'
  | 'CANNOT_PROCESS';

export type RowStatus = 'ADDED' | 'UPDATED' | 'SKIPPED' | 'UNPROCESSED';

export interface RowError {
  readonly code: RowErrorCode;
  /** The column (field api_name) at fault; null when the error is about the whole row. */
  readonly field: string | null;
}

export interface RowOutcome {
  readonly status: RowStatus;
  readonly recordId: string | null;
  readonly errors: readonly RowError[];
}

/**
 * `CODE-Column[,Column][:CODE-Column]`: one group per code in order of first appearance, its
 * columns comma-joined (reference §7.2: `MANDATORY_NOT_FOUND-Company,Last_Name:DUPLICATE_DATA-Email`).
 */
export function formatRowErrors(errors: readonly RowError[]): string {
  const groups = new Map<RowErrorCode, string[]>();
  for (const e of errors) {
    const cols = groups.get(e.code) ?? [];
    if (e.field !== null && !cols.includes(e.field)) cols.push(e.field);
    groups.set(e.code, cols);
  }
  return [...groups].map(([code, cols]) => (cols.length ? `${code}-${cols.join(',')}` : code)).join(':');
}
