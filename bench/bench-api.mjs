// The API calls a benchmark run makes: the upload through the project's client, as `bulkwright
// import` sends it; the rest with fetch, as any client would.
import { createServer } from 'node:http';
import { ZohoBulkClient } from '@bulkwright/client';
import { once } from 'node:events';

/**
 * Receives job callbacks and notes when each arrived: the moment the server says a job ended, with
 * no polling interval in the measurement (a 1 Hz poll alone adds up to a second to a ~10 s job).
 */
export class CallbackClock {
  async start() {
    this.arrivals = new Map();
    this.waiters = new Map();
    this.server = createServer((req, res) => {
      const at = performance.now();
      req.resume();
      req.on('end', () => {
        res.end();
        const tag = req.url.slice(1);
        this.arrivals.set(tag, at);
        this.waiters.get(tag)?.(at);
      });
    });
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.base = `http://127.0.0.1:${this.server.address().port}`;
    return this;
  }

  /** A callback URL for one job; the job is known by the path, whatever the body says. */
  urlFor(tag) {
    return `${this.base}/${tag}`;
  }

  arrival(tag) {
    if (this.arrivals.has(tag)) return Promise.resolve(this.arrivals.get(tag));
    return new Promise((resolve) => this.waiters.set(tag, resolve));
  }

  stop() {
    this.server.close();
  }
}

export class BenchApi {
  constructor(server) {
    this.server = server;
    this.headers = { authorization: `Zoho-oauthtoken ${server.token}` };
  }

  async upload(zipPath) {
    const base = this.server.baseUrl;
    const client = new ZohoBulkClient({ accessToken: this.server.token, orgId: this.server.orgId, apiDomain: base, uploadDomain: base, accountsDomain: base });
    const body = await client.uploadFile(zipPath, { fileName: 'leads.zip' });
    if (!body.details?.file_id) throw new Error(`upload failed: ${JSON.stringify(body)}`);
    return body.details.file_id;
  }

  async createJob(fileId, operation, callbackUrl = null) {
    const resource = { type: 'data', module: { api_name: 'Leads' }, file_id: fileId };
    if (operation !== 'insert') resource.find_by = 'Email';
    const request = { operation, resource: [resource] };
    if (callbackUrl) request.callback = { url: callbackUrl, method: 'post' };
    const res = await fetch(`${this.server.baseUrl}/crm/bulk/v2.1/write`, {
      method: 'POST', headers: { ...this.headers, 'content-type': 'application/json' }, body: JSON.stringify(request),
    });
    const body = await res.json();
    if (res.status !== 201) throw new Error(`create failed: ${JSON.stringify(body)}`);
    return body.details.id;
  }

  async job(jobId) {
    return (await fetch(`${this.server.baseUrl}/crm/bulk/v2.1/write/${jobId}`, { headers: this.headers })).json();
  }

  /**
   * Polls at `hz` until the job ends, as a client would; `ended` (a promise of the time the job's
   * callback arrived) stops the wait as soon as it settles. Returns the final job and when it ended.
   */
  async waitForJob(jobId, hz, ended = null) {
    let endedAt = null;
    ended?.then((at) => { endedAt = at; });
    for (;;) {
      const job = await this.job(jobId);
      if (job.status === 'COMPLETED' || job.status === 'FAILED') return { job, endedAt: endedAt ?? performance.now() };
      await Promise.race([new Promise((r) => setTimeout(r, 1000 / hz)), ...(ended ? [ended] : [])]);
    }
  }

  async download(url) {
    const res = await fetch(url, { headers: this.headers });
    if (res.status !== 200) throw new Error(`download failed: ${res.status}`);
    return Buffer.from(await res.arrayBuffer());
  }

  async searchByEmail(email) {
    const res = await fetch(`${this.server.baseUrl}/crm/v2.1/Leads/search?email=${encodeURIComponent(email)}`, { headers: this.headers });
    return res.status === 204 ? null : (await res.json()).data[0];
  }
}
