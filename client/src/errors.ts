/**
 * An error answer from the API (`{code, details, message, status:"error"}`), from the accounts
 * server (`{error}`), or an answer the client could not read (code `UNEXPECTED_RESPONSE`).
 */
export class ZohoApiError extends Error {
  override readonly name = 'ZohoApiError';

  constructor(
    /** HTTP status; Zoho answers some errors (e.g. INVALID_FILE_FORMAT, token errors) with 200. */
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
    /** The URL that answered, without its query string. */
    readonly url = '',
  ) {
    super(message);
  }

  /** The server refused the token itself (unknown, expired, revoked), not its scope. */
  get isTokenRejected(): boolean {
    return this.status === 401 && (this.code === 'INVALID_TOKEN' || this.code === 'AUTHENTICATION_FAILURE');
  }
}

/** `waitForJob` ran out of time; the job goes on running on the server. */
export class JobWaitTimeoutError extends Error {
  override readonly name = 'JobWaitTimeoutError';

  constructor(
    readonly jobId: string,
    readonly timeoutMs: number,
    readonly lastStatus: string,
  ) {
    super(`job ${jobId} was still ${lastStatus} after ${Math.round(timeoutMs / 1000)} s; it goes on running on the server`);
  }
}

/** A local CSV the client cannot import as asked (unreadable, no data rows, unknown column …). */
export class CsvInputError extends Error {
  override readonly name = 'CsvInputError';
}

/** Client settings that cannot work (no credentials, half a refresh-token set, a domain that is not a URL). */
export class ClientConfigError extends TypeError {
  override readonly name = 'ClientConfigError';
}
