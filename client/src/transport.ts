import { ZohoApiError } from './errors.js';

export type FetchFn = typeof fetch;
type Body = NonNullable<RequestInit['body']>;

/** A body with headers of its own: a streamed one says its type and length (`Content-Length`). */
export interface SizedBody {
  readonly content: ReadableStream<Uint8Array> | Uint8Array;
  readonly headers: Readonly<Record<string, string>>;
}

type OutgoingBody = string | SizedBody;

export interface RetryPolicy {
  /** Extra attempts after the first (idempotent calls, and any call answered 429). */
  readonly retries: number;
  /** Back-off before the first retry when the server sends no `Retry-After`; doubles per retry. */
  readonly backoffMs: number;
  /** No single wait is longer than this, whatever `Retry-After` asks. */
  readonly maxDelayMs: number;
}

export interface HttpRequest {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Built once per attempt, so a retried upload sends its whole file again. */
  readonly body?: () => OutgoingBody | Promise<OutgoingBody>;
  /** Safe to repeat after a 5xx or a dropped connection (GETs). */
  readonly idempotent: boolean;
}

/** Supplies `Authorization`; a refreshable source gets one chance to renew a token the server rejects. */
export interface TokenSource {
  authorization(): Promise<string>;
  /** Drops the cached token; true when a fresh one can be fetched. */
  invalidate(): boolean;
}

export interface TransportOptions {
  readonly fetch: FetchFn;
  readonly retry: RetryPolicy;
  readonly sleep: (ms: number) => Promise<void>;
  readonly userAgent: string;
}

const bare = (url: string): string => url.split('?')[0] ?? url;

async function errorCode(response: Response): Promise<string | null> {
  try {
    const body: unknown = await response.json();
    return body !== null && typeof body === 'object' && 'code' in body && typeof body.code === 'string' ? body.code : null;
  } catch {
    return null;
  }
}

/** Seconds or an HTTP date (RFC 9110 §10.2.3); null when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | null {
  if (header === null || header.trim() === '') return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/**
 * fetch with Zoho's retry rules: GETs are retried on 429, 5xx and network errors; POSTs only on 429,
 * which Zoho sends when a request was refused for concurrency before any work was done (reference
 * §3.4), so repeating it cannot create a second file or job.
 */
export class HttpTransport {
  constructor(private readonly options: TransportOptions) {}

  async send(request: HttpRequest, tokens?: TokenSource): Promise<Response> {
    let renewed = false;
    for (;;) {
      const response = await this.sendWithRetries(request, tokens);
      // An expired or revoked access token: renew it once and repeat the call (the server did nothing).
      if (response.status === 401 && tokens && !renewed) {
        if ((await errorCode(response.clone())) === 'INVALID_TOKEN' && tokens.invalidate()) {
          await response.body?.cancel();
          renewed = true;
          continue;
        }
      }
      return response;
    }
  }

  private async sendWithRetries(request: HttpRequest, tokens?: TokenSource): Promise<Response> {
    const { retry } = this.options;
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { 'user-agent': this.options.userAgent, ...request.headers };
      if (tokens) headers.authorization = await tokens.authorization();
      // Outside the try: a file that cannot be read is the caller's error, not the network's.
      const made = request.body ? await request.body() : undefined;
      const init: RequestInit & { duplex?: 'half' } = { method: request.method, headers, redirect: 'manual' };
      if (typeof made === 'string') init.body = made;
      else if (made) {
        Object.assign(headers, made.headers);
        init.body = made.content as Body;
        // Node's fetch sends a stream only when told the request ends before the response starts.
        if (!(made.content instanceof Uint8Array)) init.duplex = 'half';
      }
      let response: Response;
      try {
        response = await this.options.fetch(request.url, init);
      } catch (e) {
        if (request.idempotent && attempt < retry.retries) {
          await this.options.sleep(this.backoff(attempt, null));
          continue;
        }
        const reason = e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e);
        throw new ZohoApiError(0, 'NETWORK_ERROR', `cannot reach ${bare(request.url)}: ${reason}`, {}, bare(request.url));
      }
      const retryable = response.status === 429 || (request.idempotent && response.status >= 500);
      if (!retryable || attempt >= retry.retries) return response;
      await response.body?.cancel();
      await this.options.sleep(this.backoff(attempt, retryAfterMs(response.headers.get('retry-after'))));
    }
  }

  private backoff(attempt: number, asked: number | null): number {
    const { backoffMs, maxDelayMs } = this.options.retry;
    return Math.min(maxDelayMs, asked ?? backoffMs * 2 ** attempt);
  }
}

/**
 * The JSON body of a successful answer. Zoho marks failures by `status: "error"` in the body, and
 * answers some of them with HTTP 200 (INVALID_FILE_FORMAT), so the body decides, not only the status.
 */
export async function readJson<T>(response: Response, url: string): Promise<T> {
  const text = await response.text();
  let body: unknown;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    body = undefined;
  }
  const where = bare(url);
  if (body !== null && typeof body === 'object' && !Array.isArray(body)) {
    const b = body as Record<string, unknown>;
    if (b.status === 'error' || !response.ok) {
      const details = typeof b.details === 'object' && b.details !== null ? (b.details as Record<string, unknown>) : {};
      const code = typeof b.code === 'string' ? b.code : `HTTP_${response.status}`;
      const message = typeof b.message === 'string' ? b.message : `HTTP ${response.status} from ${where}`;
      throw new ZohoApiError(response.status, code, message, details, where);
    }
    return body as T;
  }
  const snippet = text.slice(0, 200).replace(/\s+/g, ' ');
  throw new ZohoApiError(response.status, 'UNEXPECTED_RESPONSE', `HTTP ${response.status} from ${where} is not a JSON object: ${snippet || '(empty)'}`, {}, where);
}

/** Fails with the server's error when a non-JSON answer (a download) did not succeed. */
export async function ensureOk(response: Response, url: string): Promise<void> {
  if (response.ok) return;
  await readJson<unknown>(response, url);
  throw new ZohoApiError(response.status, `HTTP_${response.status}`, `HTTP ${response.status} from ${bare(url)}`, {}, bare(url));
}
