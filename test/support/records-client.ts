import type { TestServer } from './server.js';

export interface JsonAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The parsed body; `{}` when there is none or it is not JSON. */
  readonly json: Record<string, unknown>;
}

export interface RecordsPage {
  readonly data: Record<string, unknown>[];
  readonly info: { per_page: number; count: number; page: number; more_records: boolean };
}

/** Zoho's v2.1 records, settings and users read APIs over raw HTTP, as a user's own code calls them. */
export class RecordsApi {
  constructor(
    readonly server: Pick<TestServer, 'baseUrl'>,
    readonly token: string,
  ) {}

  async get(path: string, query: Record<string, string> = {}): Promise<JsonAnswer> {
    const qs = new URLSearchParams(query).toString();
    const res = await fetch(`${this.server.baseUrl}${path}${qs ? `?${qs}` : ''}`, {
      headers: { authorization: `Zoho-oauthtoken ${this.token}` },
    });
    const text = await res.text();
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // empty (204) or not JSON; tests look at text
    }
    return { status: res.status, headers: res.headers, text, json };
  }

  /** One record by id, `data[0]` of the answer; fails unless the server answers 200. */
  async record(module: string, id: string): Promise<Record<string, unknown>> {
    const res = await this.get(`/crm/v2.1/${module}/${id}`);
    if (res.status !== 200) throw new Error(`GET ${module}/${id}: ${res.status} ${res.text}`);
    const data = res.json.data as Record<string, unknown>[] | undefined;
    const first = data?.[0];
    if (!first) throw new Error(`GET ${module}/${id}: no data in ${res.text}`);
    return first;
  }

  /** A page of records; fails unless the server answers 200 with a body. */
  async page(module: string, query: Record<string, string> = {}): Promise<RecordsPage> {
    const res = await this.get(`/crm/v2.1/${module}`, query);
    if (res.status !== 200) throw new Error(`GET ${module}: ${res.status} ${res.text}`);
    return res.json as unknown as RecordsPage;
  }

  /** The values of the named fields of a record, for compact comparisons. */
  async fields(module: string, id: string, names: readonly string[]): Promise<Record<string, unknown>> {
    const r = await this.record(module, id);
    return Object.fromEntries(names.map((n) => [n, r[n]]));
  }
}
