import { ZohoApiError } from './errors.js';
import type { JobList } from './models.js';
import { ZohoBulkClient, type ClientOptions } from './zoho-bulk-client.js';

/** Where `bulkwright serve` listens by default; one origin serves the API, uploads and the token endpoint. */
export const BULKWRIGHT_LOCAL = 'http://127.0.0.1:8080';

/** A client for a Bulkwright server: the Zoho API plus Bulkwright's extensions. */
export class BulkwrightClient extends ZohoBulkClient {
  constructor(options: ClientOptions = {}) {
    super({ ...options, apiDomain: options.apiDomain ?? BULKWRIGHT_LOCAL });
  }

  /** The org's most recent jobs, newest first (`GET /bulkwright/v1/jobs`; Zoho has no such API). */
  async listJobs(limit = 20): Promise<JobList> {
    try {
      return await this.getJson<JobList>(`${this.domains.api}/bulkwright/v1/jobs?limit=${limit}`);
    } catch (e) {
      if (e instanceof ZohoApiError && e.code === 'INVALID_URL_PATTERN') {
        throw new ZohoApiError(e.status, e.code, `${this.domains.api} cannot list jobs: listing is a Bulkwright extension (GET /bulkwright/v1/jobs) that Zoho CRM does not have`, e.details, e.url);
      }
      throw e;
    }
  }
}
