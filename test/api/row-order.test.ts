import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawApi } from '../support/api-client.js';
import { Importer, jobBody } from '../support/import-run.js';
import { startTestServer, type TestServer } from '../support/server.js';

/** Rows that only work when applied one after another, as Zoho applies them. */
let server: TestServer;
let importer: Importer;

beforeAll(async () => {
  server = await startTestServer();
  importer = new Importer(new RawApi(server, server.token));
});

afterAll(async () => {
  await server.close();
});

const LEADS = [{ api_name: 'id', index: 0 }, { api_name: 'Last_Name', index: 1 }, { api_name: 'Email', index: 2 }];

async function seedLeads(rows: readonly [string, string][]): Promise<string[]> {
  const csv = `Last_Name,Email\n${rows.map(([n, e]) => `${n},${e}`).join('\n')}\n`;
  const out = await importer.importCsv(csv, (fileId) => jobBody('insert', 'Leads', fileId, [{ api_name: 'Last_Name', index: 0 }, { api_name: 'Email', index: 1 }]));
  return out.ids;
}

describe('rows applied in order', () => {
  it('lets a new record take the email an earlier row of the same batch moved away from', async () => {
    const [r] = await seedLeads([['Mover', 'moving@order.example']]);
    const out = await importer.importCsv(`id,Last_Name,Email\n${r},Mover,moved@order.example\n,Newcomer,moving@order.example\n`, (fileId) =>
      jobBody('upsert', 'Leads', fileId, LEADS, { find_by: 'id' }));
    expect(out.rows.map((x) => [x.STATUS, x.ERRORS])).toEqual([['UPDATED', ''], ['ADDED', '']]);
  });

  it('tracks a record updated twice in one file by its latest values', async () => {
    const [r] = await seedLeads([['Twice', 'first@order.example']]);
    const csv = `id,Last_Name,Email\n${r},Twice,second@order.example\n,Other,third@order.example\n${r},Twice,fourth@order.example\n,Late,second@order.example\n`;
    const out = await importer.importCsv(csv, (fileId) => jobBody('upsert', 'Leads', fileId, LEADS, { find_by: 'id' }));
    expect(out.rows.map((x) => [x.STATUS, x.ERRORS])).toEqual([['UPDATED', ''], ['ADDED', ''], ['UPDATED', ''], ['ADDED', '']]);
  });

  it('follows each record to its latest values when updates move emails between records', async () => {
    const [r, s] = await seedLeads([['Holder', 'held@order.example'], ['Taker', 'other@order.example']]);
    const csv = `id,Last_Name,Email\n${r},Holder,released@order.example\n${s},Taker,held@order.example\n${r},Holder,again@order.example\n${s},Taker,released@order.example\n`;
    const out = await importer.importCsv(csv, (fileId) => jobBody('update', 'Leads', fileId, LEADS, { find_by: 'id' }));
    expect(out.rows.map((x) => [x.STATUS, x.ERRORS])).toEqual([['UPDATED', ''], ['UPDATED', ''], ['UPDATED', ''], ['UPDATED', '']]);
  });

  it('updates a record an earlier row of the same batch added', async () => {
    const csv = 'id,Last_Name,Email\n,Fresh,fresh@order.example\n';
    const first = await importer.importCsv(csv, (fileId) => jobBody('upsert', 'Leads', fileId, [{ api_name: 'Last_Name', index: 1 }, { api_name: 'Email', index: 2 }], { find_by: 'Email' }));
    expect(first.rows.map((x) => x.STATUS)).toEqual(['ADDED']);
    const twice = 'Last_Name,Email\nDup,dup@order.example\nDup Renamed,DUP@order.example\n';
    const out = await importer.importCsv(twice, (fileId) =>
      jobBody('upsert', 'Leads', fileId, [{ api_name: 'Last_Name', index: 0 }, { api_name: 'Email', index: 1 }], { find_by: 'Email' }));
    expect(out.rows.map((x) => x.STATUS)).toEqual(['ADDED', 'UPDATED']);
    expect(out.ids[1]).toBe(out.ids[0]);
    const module = (await server.bw.store.listModules(server.orgId)).find((m) => m.apiName === 'Leads');
    expect((await server.bw.store.getRecord(module?.id ?? '', out.ids[0] as string))?.values.Last_Name).toBe('Dup Renamed');
  });
});

describe('ids and cells that cannot match', () => {
  it('reports an id beyond 64 bits as not found, for that row only', async () => {
    const [r] = await seedLeads([['Known', 'known@order.example']]);
    const out = await importer.importCsv(`id,Last_Name,Email\n9999999999999999999,Ghost,\n${r},Known Again,\n`, (fileId) =>
      jobBody('update', 'Leads', fileId, LEADS, { find_by: 'id', ignore_empty: true }));
    expect(out.rows.map((x) => [x.STATUS, x.ERRORS])).toEqual([['SKIPPED', 'RESOURCE_NOT_FOUND-id'], ['UPDATED', '']]);
  });

  it('reports an invalid find_by cell once, as invalid data', async () => {
    const out = await importer.importCsv('Last_Name,Email\nNobody,not-an-email\n', (fileId) =>
      jobBody('update', 'Leads', fileId, [{ api_name: 'Last_Name', index: 0 }, { api_name: 'Email', index: 1 }], { find_by: 'Email' }));
    expect(out.rows.map((x) => [x.STATUS, x.ERRORS])).toEqual([['SKIPPED', 'INVALID_DATA-Email']]);
  });

  it('keeps the owner when an update leaves the Owner cell empty', async () => {
    const [r] = await seedLeads([['Owned', 'owned@order.example']]);
    await importer.importCsv(`id,Last_Name,Owner\n${r},Still Owned,\n`, (fileId) =>
      jobBody('update', 'Leads', fileId, [{ api_name: 'id', index: 0 }, { api_name: 'Last_Name', index: 1 }, { api_name: 'Owner', index: 2 }], { find_by: 'id' }));
    const module = (await server.bw.store.listModules(server.orgId)).find((m) => m.apiName === 'Leads');
    expect((await server.bw.store.getRecord(module?.id ?? '', r as string))?.values).toMatchObject({ Last_Name: 'Still Owned', Owner: server.userId });
  });

  it('answers a record id beyond 64 bits on the records API as invalid, not with a server error', async () => {
    const res = await fetch(`${server.baseUrl}/crm/v2.1/Leads/9999999999999999999`, { headers: { authorization: `Zoho-oauthtoken ${server.token}` } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe('INVALID_DATA');
  });
});
