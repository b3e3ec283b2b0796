import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawApi } from '../support/api-client.js';
import { insertLeadsBody, leadsCsv, manyLeads } from '../support/builders.js';
import { zipCsv } from '../support/zip.js';

const CLI = path.resolve('dist/cli/main.js');

interface Credentials {
  org_id: string;
  user_id: string;
  user_name: string;
  access_token: string;
  api_domain: string;
}

let dataDir: string;
let child: ChildProcess;
let baseUrl: string;
let stdout = '';

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'bulkwright-cli-'));
  child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve printed no listening line: ${stdout}`)), 20_000);
    child.stdout?.on('data', (c: Buffer) => {
      stdout += c.toString('utf8');
      const m = /^Bulkwright listening on (http:\/\/127\.0\.0\.1:\d+)$/m.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve(m[1] as string);
      }
    });
    child.once('exit', (code) => reject(new Error(`serve exited early with ${code}`)));
  });
});

afterAll(async () => {
  if (child.exitCode === null) child.kill('SIGKILL');
  await rm(dataDir, { recursive: true, force: true });
});

describe('bulkwright serve', () => {
  it('prints exactly one listening line on stdout', () => {
    expect(stdout).toBe(`Bulkwright listening on ${baseUrl}\n`);
  });

  it('writes dev credentials with mode 0600 that work against the API', async () => {
    const file = path.join(dataDir, 'dev-credentials.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const creds = JSON.parse(await readFile(file, 'utf8')) as Credentials;
    expect(Object.keys(creds)).toEqual(['org_id', 'user_id', 'user_name', 'access_token', 'api_domain']);
    expect(creds.org_id).toMatch(/^\d{19}$/);
    expect(creds.user_id).toMatch(/^\d{19}$/);
    expect(creds.access_token).toMatch(/^1000\.[0-9a-f]{32}\.[0-9a-f]{32}$/);
    expect(creds.api_domain).toBe(baseUrl);
    const api = new RawApi({ baseUrl, orgId: creds.org_id }, creds.access_token);
    const res = await api.upload(await zipCsv('leads.csv', leadsCsv(['Last_Name'], manyLeads(1))));
    expect(res.status).toBe(200);
  });
});

describe('a job on the serve process (its job thread)', () => {
  it('runs an import to completion and serves the result', async () => {
    const creds = JSON.parse(await readFile(path.join(dataDir, 'dev-credentials.json'), 'utf8')) as Credentials;
    const api = new RawApi({ baseUrl, orgId: creds.org_id }, creds.access_token);
    const fileId = await api.uploadFileId(await zipCsv('leads.csv', leadsCsv(['Last_Name', 'Email'], manyLeads(300))));
    const jobId = await api.createJobId({
      operation: 'insert',
      resource: [{ type: 'data', module: { api_name: 'Leads' }, file_id: fileId, field_mappings: [{ api_name: 'Last_Name', index: 0 }, { api_name: 'Email', index: 1 }] }],
    });
    const job = await api.waitForJob(jobId);
    expect((job.resource as { file: unknown }[])[0]?.file).toEqual({
      status: 'COMPLETED', name: 'leads.csv', added_count: 300, skipped_count: 0, updated_count: 0, total_count: 300,
    });
    const dl = await api.download((job.result as { download_url: string }).download_url);
    expect(dl.status).toBe(200);
    expect(dl.headers.get('content-disposition')).toBe(`attachment; filename="${jobId}.zip"`);
  });
});

describe('bulkwright token', () => {
  it('creates a token printed alone on stdout, and revokes it', async () => {
    const creds = JSON.parse(await readFile(path.join(dataDir, 'dev-credentials.json'), 'utf8')) as Credentials;
    const created = cli('token', 'create', '--data-dir', dataDir);
    expect(created.status).toBe(0);
    expect(created.stdout).toMatch(/^1000\.[0-9a-f]{32}\.[0-9a-f]{32}\n$/);
    const token = created.stdout.trim();
    const api = new RawApi({ baseUrl, orgId: creds.org_id }, token);
    expect((await api.getJob('4150868000005350003')).json.code).toBe('RESOURCE_NOT_FOUND');

    const revoked = cli('token', 'revoke', token, '--data-dir', dataDir);
    expect(revoked.status).toBe(0);
    expect((await api.getJob('4150868000005350003')).json.code).toBe('INVALID_TOKEN');
    expect(cli('token', 'revoke', token, '--data-dir', dataDir).status).toBe(1);
  });

  it('refuses a token revoked by another process at once, though job details were just polled with it', async () => {
    const creds = JSON.parse(await readFile(path.join(dataDir, 'dev-credentials.json'), 'utf8')) as Credentials;
    const token = cli('token', 'create', '--data-dir', dataDir).stdout.trim();
    const api = new RawApi({ baseUrl, orgId: creds.org_id }, token);
    const fileId = await api.uploadFileId(await zipCsv('leads.csv', leadsCsv(['Last_Name'], manyLeads(3))));
    const jobId = await api.createJobId(insertLeadsBody(fileId, [{ api_name: 'Last_Name', index: 0 }]));
    for (let n = 0; n < 3; n++) expect((await api.getJob(jobId)).status).toBe(200);
    expect(cli('token', 'revoke', token, '--data-dir', dataDir).status).toBe(0);
    expect((await api.getJob(jobId)).json.code).toBe('INVALID_TOKEN');
  });

  it('creates a token limited to the scopes given', async () => {
    const creds = JSON.parse(await readFile(path.join(dataDir, 'dev-credentials.json'), 'utf8')) as Credentials;
    const token = cli('token', 'create', '--data-dir', dataDir, '--org', creds.org_id, '--scopes', 'ZohoCRM.bulk.READ').stdout.trim();
    const api = new RawApi({ baseUrl, orgId: creds.org_id }, token);
    expect((await api.getJob('4150868000005350003')).json.code).toBe('RESOURCE_NOT_FOUND');
    const res = await api.upload(await zipCsv('leads.csv', leadsCsv(['Last_Name'], manyLeads(1))));
    expect(res.json.code).toBe('OAUTH_SCOPE_MISMATCH');
  });

  it('creates a token that expires', async () => {
    const creds = JSON.parse(await readFile(path.join(dataDir, 'dev-credentials.json'), 'utf8')) as Credentials;
    const token = cli('token', 'create', '--data-dir', dataDir, '--expires-in', '1').stdout.trim();
    const api = new RawApi({ baseUrl, orgId: creds.org_id }, token);
    await new Promise((r) => setTimeout(r, 1200));
    expect((await api.getJob('4150868000005350003')).json.code).toBe('INVALID_TOKEN');
  });

  it('refuses an unknown org and a bad --expires-in with a message and a non-zero exit', () => {
    const noOrg = cli('token', 'create', '--data-dir', dataDir, '--org', '123456789012345');
    expect(noOrg.status).not.toBe(0);
    expect(noOrg.stderr).toContain('no org 123456789012345');
    const bad = cli('token', 'create', '--data-dir', dataDir, '--expires-in', 'soon');
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('--expires-in takes a whole number of seconds above 0');
  });
});

describe('bulkwright field add', () => {
  it('adds a field that the running server maps and stores at once, keeping older records', async () => {
    const creds = JSON.parse(await readFile(path.join(dataDir, 'dev-credentials.json'), 'utf8')) as Credentials;
    const api = new RawApi({ baseUrl, orgId: creds.org_id }, creds.access_token);
    const added = cli('field', 'add', '--data-dir', dataDir, '--module', 'Leads', '--api-name', 'Loyalty_Tier', '--type', 'picklist', '--picklist', 'Gold,Silver');
    expect(added.status).toBe(0);
    expect(added.stderr).toBe('added Leads.Loyalty_Tier (picklist) to 1 org\n');

    const fields = await fetch(`${baseUrl}/crm/v2.1/settings/fields?module=Leads`, { headers: api.auth() });
    const tier = ((await fields.json()) as { fields: { api_name: string; data_type: string }[] }).fields.find((f) => f.api_name === 'Loyalty_Tier');
    expect(tier?.data_type).toBe('picklist');

    const fileId = await api.uploadFileId(await zipCsv('tiers.csv', 'Last_Name,Email,Loyalty_Tier\nTiered,tiered@example.com,Gold\n'));
    const jobId = await api.createJobId({ operation: 'insert', resource: [{ type: 'data', module: { api_name: 'Leads' }, file_id: fileId }] });
    const job = await api.waitForJob(jobId);
    expect((job.resource as { file: { added_count: number } }[])[0]?.file.added_count).toBe(1);
    const found = await fetch(`${baseUrl}/crm/v2.1/Leads/search?email=tiered@example.com`, { headers: api.auth() });
    expect(((await found.json()) as { data: Record<string, unknown>[] }).data[0]?.Loyalty_Tier).toBe('Gold');
  });

  it('refuses a field that exists, with a message and a non-zero exit', () => {
    const again = cli('field', 'add', '--data-dir', dataDir, '--module', 'Leads', '--api-name', 'Email', '--type', 'email');
    expect(again.status).not.toBe(0);
    expect(again.stderr).toContain('Leads already has a field Email');
  });
});

describe('bulkwright serve --schema', () => {
  it('creates the custom modules and fields a YAML schema declares', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'bulkwright-schema-'));
    const schema = path.join(dir, 'schema.yaml');
    await writeFile(schema, 'modules:\n  - api_name: Projects\n    fields:\n      - api_name: Project_Name\n        data_type: text\n        mandatory: true\n        unique: true\n      - api_name: Budget\n        data_type: currency\n');
    // Its own SQLite data dir, whatever the backend of this run: the file shared by the other
    // processes of this test file already has an org, so no credentials would be written for it.
    const server = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--data-dir', path.join(dir, 'data'), '--schema', schema], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DATABASE_URL: '' },
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        server.stdout?.on('data', (c: Buffer) => {
          out += c.toString('utf8');
          const m = /listening on (\S+)/.exec(out);
          if (m) resolve(m[1] as string);
        });
        server.once('exit', (code) => reject(new Error(`serve exited with ${code}`)));
      });
      const creds = JSON.parse(await readFile(path.join(dir, 'data', 'dev-credentials.json'), 'utf8')) as Credentials;
      const res = await fetch(`${url}/crm/v2.1/settings/fields?module=Projects`, { headers: { authorization: `Zoho-oauthtoken ${creds.access_token}` } });
      const fields = ((await res.json()) as { fields: { api_name: string; data_type: string; system_mandatory: boolean }[] }).fields;
      expect(fields.map((f) => [f.api_name, f.data_type, f.system_mandatory])).toEqual([
        ['Owner', 'ownerlookup', false], ['Project_Name', 'text', true], ['Budget', 'currency', false],
      ]);
    } finally {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('shutdown', () => {
  it('exits 0 on SIGTERM', async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
