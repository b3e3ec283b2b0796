import { ClientConfigError, CsvInputError, JobWaitTimeoutError, ZohoApiError } from '@bulkwright/client';
import { CommanderError } from 'commander';

/** The CLI's exit codes, documented in docs/cli.md; scripts branch on them. */
export const EXIT = {
  ok: 0,
  /** A job finished with skipped rows and `--strict` was given (also: other failures of older commands). */
  skippedRows: 1,
  usage: 2,
  /** The API refused a call, could not be reached, a job FAILED, or waiting timed out. */
  api: 3,
} as const;

/** Wrong flags or arguments, found before anything is sent. */
export class UsageError extends Error {}

/** A finished command whose outcome still calls for a non-zero exit (e.g. `--strict` with skipped rows). */
export class ExitError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

function describeApiError(e: ZohoApiError): string {
  const where = e.url ? ` from ${e.url}` : '';
  if (e.code === 'NETWORK_ERROR') return `${e.message}: is the server running, and are --api-domain / --upload-domain right?`;
  if (e.isTokenRejected) {
    return `the server refused the access token: ${e.code} "${e.message}"${where}; check --token, BULKWRIGHT_TOKEN or the profile file`;
  }
  if (e.code === 'OAUTH_SCOPE_MISMATCH') return `the access token lacks the scope for this call: ${e.code}${where}`;
  const details = Object.keys(e.details).length > 0 ? ` ${JSON.stringify(e.details)}` : '';
  const status = e.status > 0 ? `HTTP ${e.status} ` : '';
  return `${status}${e.code}: ${e.message}${details}${where}`;
}

/** Exit code and message for anything a command threw; commander has already printed its own errors. */
export function describeFailure(e: unknown): { code: number; message: string | null } {
  if (e instanceof CommanderError) return { code: e.exitCode === 0 ? EXIT.ok : EXIT.usage, message: null };
  if (e instanceof ExitError) return { code: e.exitCode, message: e.message };
  if (e instanceof UsageError || e instanceof CsvInputError || e instanceof ClientConfigError) return { code: EXIT.usage, message: e.message };
  if (e instanceof ZohoApiError) return { code: EXIT.api, message: describeApiError(e) };
  if (e instanceof JobWaitTimeoutError) return { code: EXIT.api, message: e.message };
  return { code: 1, message: e instanceof Error ? e.message : String(e) };
}
