import { ZohoApiError } from './errors.js';
import type { TokenResponse } from './models.js';
import { ZOHO_US } from './domains.js';
import { HttpTransport, type FetchFn, type TokenSource } from './transport.js';

export interface RefreshCredentials {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly refreshToken: string;
}

/**
 * `POST {accounts}/oauth/v2/token`. The parameters go in a urlencoded body rather than the query
 * string Zoho's docs show (both are accepted), so secrets stay out of URLs and access logs.
 * Zoho answers a refused grant with HTTP 200 and `{"error": "invalid_code"}`.
 */
export async function requestToken(
  transport: HttpTransport,
  accountsDomain: string,
  params: Readonly<Record<string, string>>,
): Promise<TokenResponse> {
  const url = `${accountsDomain}/oauth/v2/token`;
  const response = await transport.send({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: () => new URLSearchParams(params).toString(),
    idempotent: false,
  });
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === 'object') body = parsed as Record<string, unknown>;
  } catch {
    // not JSON: reported below
  }
  if (typeof body.access_token === 'string') return body as unknown as TokenResponse;
  const code = typeof body.error === 'string' ? body.error : `HTTP_${response.status}`;
  const grant = params.grant_type === 'refresh_token' ? 'refresh token' : 'grant code';
  throw new ZohoApiError(response.status, code, `the accounts server ${accountsDomain} refused the ${grant} (${code})`, {}, url);
}

/**
 * Trades a self-client grant code (Zoho's API console, or `bulkwright client create`) for an access
 * token and a refresh token. A grant code works once, so the call is never repeated.
 */
export function exchangeGrantCode(input: {
  readonly accountsDomain?: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly code: string;
  readonly redirectUri?: string;
  readonly fetch?: FetchFn;
}): Promise<TokenResponse> {
  const transport = new HttpTransport({
    fetch: input.fetch ?? ((url, init) => fetch(url, init)),
    retry: { retries: 0, backoffMs: 0, maxDelayMs: 0 },
    sleep: async () => undefined,
    userAgent: 'bulkwright-client/0.1.0',
  });
  return requestToken(transport, (input.accountsDomain ?? ZOHO_US.accounts).replace(/\/+$/, ''), {
    grant_type: 'authorization_code',
    client_id: input.clientId,
    client_secret: input.clientSecret,
    code: input.code,
    ...(input.redirectUri ? { redirect_uri: input.redirectUri } : {}),
  });
}

// Renew a little before the expiry Zoho states, so a token does not lapse between check and use.
const EARLY_RENEW_MS = 60_000;

/** A fixed access token: never renewed. */
export class StaticToken implements TokenSource {
  constructor(private readonly token: string) {}

  async authorization(): Promise<string> {
    return `Zoho-oauthtoken ${this.token}`;
  }

  invalidate(): boolean {
    return false;
  }
}

/** Access tokens from a refresh token, fetched on first use and renewed before they expire. */
export class RefreshingToken implements TokenSource {
  private current: { token: string; expiresAt: number } | null = null;
  private pending: Promise<string> | null = null;

  constructor(
    private readonly transport: HttpTransport,
    private readonly accountsDomain: string,
    private readonly credentials: RefreshCredentials,
    private readonly now: () => number = Date.now,
    /** An access token already in hand (e.g. from a profile); used until it is rejected or expires. */
    initialToken?: string,
  ) {
    if (initialToken) this.current = { token: initialToken, expiresAt: Number.POSITIVE_INFINITY };
  }

  async authorization(): Promise<string> {
    return `Zoho-oauthtoken ${await this.accessToken()}`;
  }

  invalidate(): boolean {
    this.current = null;
    return true;
  }

  async accessToken(): Promise<string> {
    if (this.current && this.current.expiresAt - EARLY_RENEW_MS > this.now()) return this.current.token;
    // Concurrent calls share one refresh rather than each spending a token request.
    this.pending ??= this.refresh().finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  private async refresh(): Promise<string> {
    const answer = await requestToken(this.transport, this.accountsDomain, {
      grant_type: 'refresh_token',
      client_id: this.credentials.clientId,
      client_secret: this.credentials.clientSecret,
      refresh_token: this.credentials.refreshToken,
    });
    this.current = { token: answer.access_token, expiresAt: this.now() + answer.expires_in * 1000 };
    return answer.access_token;
  }
}
