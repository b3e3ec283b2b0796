import { StoreUnavailableError } from '../../ports/store.js';

/**
 * Whether `e` says the SQLite store could not answer for now: its commit thread died, or another
 * connection held the write lock past the busy timeout (SQLITE_BUSY, and its extended codes).
 */
export function isSqliteUnavailable(e: unknown): boolean {
  if (e instanceof StoreUnavailableError) return true;
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}
