import { StoreUnavailableError } from '../../ports/store.js';

/**
 * Whether `e` says the SQLite store could not answer for now: its commit thread died, or another
 * connection held the write lock past the busy timeout (SQLITE_BUSY, and its extended codes).
 */
export function isSqliteUnavailable(e: unknown): boolean {
  return e instanceof StoreUnavailableError || isSqliteBusy(e);
}

/** SQLITE_BUSY or one of its extended codes: another connection holds the lock wanted. */
export function isSqliteBusy(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}
