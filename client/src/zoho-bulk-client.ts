import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { pipeline } from 'node:stream/promises';
import { importCsv, importResults, type ImportOptions, type ImportResultRow, type ImportSummary } from './csv-import.js';
import { resolveDomains, type DomainInput, type Domains } from './domains.js';
import { ClientConfigError, JobWaitTimeoutError, ZohoApiError } from './errors.js';
import { isFinished, type CreateJobRequest, type CreateJobResponse, type JobDetails, type ResultRow, type UploadResponse } from './models.js';
import { multipartFile } from './multipart.js';
import { RefreshingToken, StaticToken } from './oauth.js';
import { readResultZip } from './result-zip.js';
import { ensureOk, HttpTransport, readJson, type FetchFn, type TokenSource } from './transport.js';

export interface ClientOptions extends DomainInput {
  /** A ready access token (Zoho self-client tokens live one hour). */
  readonly accessToken?: string;
  /** With clientId and clientSecret: access tokens come from `POST {accounts}/oauth/v2/token`, renewed as needed. */
  readonly refreshToken?: string;
  readonly clientId?: string;
  readonly clientSecret?: string;
  /** Sent as `X-CRM-ORG` on uploads. */
  readonly orgId?: string;
  /** Extra attempts for calls that may be repeated (default 3). */
  readonly retries?: number;
  /** First back-off when the server sends no `Retry-After` (default 1000 ms, doubling). */
  readonly backoffMs?: number;
  readonly maxRetryDelayMs?: number;
  readonly fetch?: FetchFn;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly userAgent?: string;
}

export interface WaitOptions {
  /** Called after every poll with the job as the server reported it. */
  readonly onProgress?: (job: JobDetails) => void;
  /** Give up (JobWaitTimeoutError) after this long; default 30 minutes. */
  readonly timeoutMs?: number;
  /** Default 2 s: Zoho counts every poll against the org's API limits. */
  readonly pollIntervalMs?: number;
}

const sleepFor = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A client for Zoho CRM's Bulk Write API v2.1; defaults to Zoho's US data centre. */
export class ZohoBulkClient {
  readonly domains: Domains;
  readonly orgId: string | null;
  protected readonly transport: HttpTransport;
  protected readonly tokens: TokenSource;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: ClientOptions = {}) {
    this.domains = resolveDomains(options);
    this.orgId = options.orgId ?? null;
    this.sleep = options.sleep ?? sleepFor;
    this.transport = new HttpTransport({
      fetch: options.fetch ?? ((input, init) => fetch(input, init)),
      retry: { retries: options.retries ?? 3, backoffMs: options.backoffMs ?? 1000, maxDelayMs: options.maxRetryDelayMs ?? 60_000 },
      sleep: this.sleep,
      userAgent: options.userAgent ?? 'bulkwright-client/0.1.0',
    });
    const { refreshToken, clientId, clientSecret, accessToken } = options;
    if (refreshToken && clientId && clientSecret) {
      this.tokens = new RefreshingToken(this.transport, this.domains.accounts, { refreshToken, clientId, clientSecret }, Date.now, accessToken);
    } else if (refreshToken || clientId || clientSecret) {
      throw new ClientConfigError('the refresh-token flow needs all of refreshToken, clientId and clientSecret');
    } else if (accessToken) {
      this.tokens = new StaticToken(accessToken);
    } else {
      throw new ClientConfigError('no credentials: give accessToken, or refreshToken with clientId and clientSecret');
    }
  }

  /** Uploads a zip holding one CSV (a path, bytes or a Blob) to `{upload}/crm/v2.1/upload`. */
  async uploadFile(zip: string | Uint8Array | Blob, options: { fileName?: string } = {}): Promise<UploadResponse> {
    const fileName = options.fileName ?? (typeof zip === 'string' ? path.basename(zip) : 'upload.zip');
    const url = `${this.domains.upload}/crm/v2.1/upload`;
    const headers: Record<string, string> = { feature: 'bulk-write' };
    if (this.orgId) headers['X-CRM-ORG'] = this.orgId;
    const response = await this.transport.send(
      {
        method: 'POST',
        url,
        headers,
        body: async () => {
          const part = await multipartFile(zip, fileName);
          return { content: part.body, headers: { 'content-type': part.contentType, 'content-length': String(part.contentLength) } };
        },
        idempotent: false,
      },
      this.tokens,
    );
    return readJson<UploadResponse>(response, url);
  }

  async createJob(request: CreateJobRequest): Promise<CreateJobResponse> {
    const url = `${this.domains.api}/crm/bulk/v2.1/write`;
    const response = await this.transport.send(
      { method: 'POST', url, headers: { 'content-type': 'application/json' }, body: () => JSON.stringify(request), idempotent: false },
      this.tokens,
    );
    return readJson<CreateJobResponse>(response, url);
  }

  async getJob(jobId: string): Promise<JobDetails> {
    const job = await this.getJson<JobDetails>(`${this.domains.api}/crm/bulk/v2.1/write/${encodeURIComponent(jobId)}`);
    if (typeof job.id !== 'string' || typeof job.status !== 'string' || !Array.isArray(job.resource)) {
      throw new ZohoApiError(200, 'UNEXPECTED_RESPONSE', `the details of job ${jobId} are not a job object`, {}, this.domains.api);
    }
    return job;
  }

  /** Polls until the job is COMPLETED or FAILED, and returns it. */
  async waitForJob(jobId: string, options: WaitOptions = {}): Promise<JobDetails> {
    const timeoutMs = options.timeoutMs ?? 30 * 60_000;
    const interval = options.pollIntervalMs ?? 2000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const job = await this.getJob(jobId);
      options.onProgress?.(job);
      if (isFinished(job)) return job;
      if (Date.now() + interval > deadline) throw new JobWaitTimeoutError(jobId, timeoutMs, job.status);
      await this.sleep(interval);
    }
  }

  /**
   * Streams a completed job's result zip to a temporary file (yauzl reads zips by random access)
   * and yields its rows in input order; the file is removed when the iteration ends.
   */
  async *downloadResult(job: string | JobDetails): AsyncGenerator<ResultRow> {
    const url = await this.resultUrl(job);
    const dir = await mkdtemp(path.join(tmpdir(), 'bulkwright-result-'));
    try {
      const file = path.join(dir, 'result.zip');
      await this.saveResultZip(url, file);
      yield* readResultZip(file, url.split('?')[0] ?? url);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Writes a completed job's result zip, as downloaded, to `file`. Takes a job, its id or its download URL. */
  async saveResultZip(job: string | JobDetails, file: string): Promise<void> {
    const url = await this.resultUrl(job);
    const response = await this.transport.send({ method: 'GET', url, idempotent: true }, this.tokens);
    await ensureOk(response, url);
    if (!response.body) throw new ZohoApiError(response.status, 'UNEXPECTED_RESPONSE', `the download ${url} has no body`, {}, url);
    await pipeline(Readable.fromWeb(response.body as NodeReadableStream<Uint8Array>), createWriteStream(file));
  }

  /** Zips, uploads and imports a CSV (split into jobs of at most 25,000 rows), waits, and sums up. */
  importCsv(file: string, options: ImportOptions): Promise<ImportSummary> {
    return importCsv(this, file, options);
  }

  /** The result rows of every job of an import, merged in input order; `row` counts the whole input. */
  importResults(summary: ImportSummary): AsyncGenerator<ImportResultRow> {
    return importResults(this, summary);
  }

  protected async getJson<T>(url: string): Promise<T> {
    const response = await this.transport.send({ method: 'GET', url, idempotent: true }, this.tokens);
    return readJson<T>(response, url);
  }

  private async resultUrl(job: string | JobDetails): Promise<string> {
    if (typeof job === 'string' && /^https?:\/\//i.test(job)) return job;
    const details = typeof job === 'string' ? await this.getJob(job) : job;
    const url = details.result?.download_url;
    if (!url) {
      throw new ZohoApiError(400, 'RESOURCE_NOT_FOUND', `job ${details.id} has no result to download: it is ${details.status}`, {}, this.domains.api);
    }
    return url;
  }
}
