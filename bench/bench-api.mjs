// The API calls a benchmark run makes, with fetch, as any client would.
import { openAsBlob } from 'node:fs';

export class BenchApi {
  constructor(server) {
    this.server = server;
    this.headers = { authorization: `Zoho-oauthtoken ${server.token}` };
  }

  async upload(zipPath) {
    const form = new FormData();
    form.append('file', await openAsBlob(zipPath, { type: 'application/zip' }), 'leads.zip');
    const res = await fetch(`${this.server.baseUrl}/crm/v2.1/upload`, {
      method: 'POST', headers: { ...this.headers, feature: 'bulk-write', 'X-CRM-ORG': this.server.orgId }, body: form,
    });
    const body = await res.json();
    if (!body.details?.file_id) throw new Error(`upload failed: ${JSON.stringify(body)}`);
    return body.details.file_id;
  }

  async createJob(fileId, operation) {
    const resource = { type: 'data', module: { api_name: 'Leads' }, file_id: fileId };
    if (operation !== 'insert') resource.find_by = 'Email';
    const res = await fetch(`${this.server.baseUrl}/crm/bulk/v2.1/write`, {
      method: 'POST', headers: { ...this.headers, 'content-type': 'application/json' }, body: JSON.stringify({ operation, resource: [resource] }),
    });
    const body = await res.json();
    if (res.status !== 201) throw new Error(`create failed: ${JSON.stringify(body)}`);
    return body.details.id;
  }

  async job(jobId) {
    return (await fetch(`${this.server.baseUrl}/crm/bulk/v2.1/write/${jobId}`, { headers: this.headers })).json();
  }

  /** Polls at `hz` until the job ends; returns the final job object. */
  async waitForJob(jobId, hz) {
    for (;;) {
      const job = await this.job(jobId);
      if (job.status === 'COMPLETED' || job.status === 'FAILED') return job;
      await new Promise((r) => setTimeout(r, 1000 / hz));
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
