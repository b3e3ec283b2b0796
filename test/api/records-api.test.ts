/**
 * Zoho's v2.1 read APIs over what bulk write stored: records (list, get, search), settings (modules,
 * fields) and users. Lookups read back as {name, id}, users as {name, id, email}, dates as yyyy-MM-dd,
 * times as ISO-8601 with the org's offset (+05:30 on test servers).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawApi } from '../support/api-client.js';
import { byPosition, csvText, Importer, jobBody } from '../support/import-run.js';
import { RecordsApi } from '../support/records-client.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let importer: Importer;
let records: RecordsApi;
let admin: Record<string, unknown>;
const ids: Record<string, string> = {};

const ISO_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+05:30$/;
const DIGITS = /^[1-9]\d{14,18}$/;

const LEAD_COLUMNS = ['Last_Name', 'First_Name', 'Email', 'Company', 'Phone', 'No_of_Employees', 'Lead_Source'] as const;
const LEADS = [
  ['Boyle', 'Patricia', 'pb@records.example', 'Zylker', '555-0100', '120', 'Cold Call'],
  ['Boyle', 'Peter', 'peter@records.example', 'Acme', '555-0101', '15', 'Web Research'],
  ['Adams', 'Amy', 'pb.adams@records.example', 'Zylker', '555-0102', '300', 'Trade Show'],
  ['Clark', 'Carl', 'carl@records.example', 'Globex', '555-0103', '7', 'Cold Call'],
  ['Davis', 'Dana', 'dana@records.example', 'Initech', '555-0104', '45', 'Partner'],
] as const;

beforeAll(async () => {
  server = await startTestServer();
  importer = new Importer(new RawApi(server, server.token));
  records = new RecordsApi(server, server.token);
  admin = { name: 'Bulkwright Admin', id: server.userId, email: 'admin@bulkwright.local' };

  const leads = await importer.importCsv(csvText([...LEAD_COLUMNS], LEADS), (f) => jobBody('insert', 'Leads', f, byPosition(...LEAD_COLUMNS)));
  [ids.patricia, ids.peter, ids.amy, ids.carl, ids.dana] = leads.ids as [string, string, string, string, string];
  const accounts = await importer.importCsv(csvText(['Account_Name'], [['Zylker Inc']]), (f) => jobBody('insert', 'Accounts', f, byPosition('Account_Name')));
  ids.zylker = accounts.ids[0] as string;
  const contacts = await importer.importCsv(
    csvText(['First_Name', 'Last_Name', 'Account_Name', 'Date_of_Birth'], [['Patricia', 'Boyle', 'Zylker Inc', '12/31/1990'], ['Sam', 'Solo', '', '']]),
    (f) => jobBody('insert', 'Contacts', f, [
      { api_name: 'First_Name', index: 0 }, { api_name: 'Last_Name', index: 1 },
      { api_name: 'Account_Name', index: 2, find_by: 'Account_Name' }, { api_name: 'Date_of_Birth', index: 3 },
    ]),
  );
  [ids.contact, ids.solo] = contacts.ids as [string, string];
});

afterAll(async () => {
  await server.close();
});

describe('GET /crm/v2.1/{module}', () => {
  it('lists the records with an info block', async () => {
    const res = await records.get('/crm/v2.1/Leads');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = res.json as { data: Record<string, unknown>[]; info: unknown };
    expect(Object.keys(body)).toEqual(['data', 'info']);
    expect(body.info).toEqual({ per_page: 200, count: 5, page: 1, more_records: false });
    expect(body.data.map((r) => r.id).sort()).toEqual([ids.patricia, ids.peter, ids.amy, ids.carl, ids.dana].sort());
  });

  it('pages with page and per_page, and answers 204 with no body past the last page', async () => {
    const sorted = { sort_by: 'Email', sort_order: 'asc' };
    const p1 = await records.page('Leads', { ...sorted, per_page: '2', page: '1' });
    const p2 = await records.page('Leads', { ...sorted, per_page: '2', page: '2' });
    const p3 = await records.page('Leads', { ...sorted, per_page: '2', page: '3' });
    expect(p1.data.map((r) => r.Email)).toEqual(['carl@records.example', 'dana@records.example']);
    expect(p1.info).toEqual({ per_page: 2, count: 2, page: 1, more_records: true });
    expect(p2.data.map((r) => r.Email)).toEqual(['pb.adams@records.example', 'pb@records.example']);
    expect(p2.info).toEqual({ per_page: 2, count: 2, page: 2, more_records: true });
    expect(p3.data.map((r) => r.Email)).toEqual(['peter@records.example']);
    expect(p3.info).toEqual({ per_page: 2, count: 1, page: 3, more_records: false });
    const past = await records.get('/crm/v2.1/Leads', { ...sorted, per_page: '2', page: '4' });
    expect([past.status, past.text]).toEqual([204, '']);
  });

  it('sorts by sort_by in sort_order', async () => {
    const asc = await records.page('Leads', { sort_by: 'No_of_Employees', sort_order: 'asc' });
    expect(asc.data.map((r) => r.No_of_Employees)).toEqual([7, 15, 45, 120, 300]);
    const desc = await records.page('Leads', { sort_by: 'Last_Name', sort_order: 'desc', fields: 'Last_Name' });
    expect(desc.data.map((r) => r.Last_Name)).toEqual(['Davis', 'Clark', 'Boyle', 'Boyle', 'Adams']);
    const byId = await records.page('Leads', { sort_by: 'id', sort_order: 'desc', fields: 'Last_Name' });
    expect(byId.data.map((r) => r.id)).toEqual([ids.dana, ids.carl, ids.amy, ids.peter, ids.patricia]);
  });

  it('gives only the fields asked for, and the id', async () => {
    const page = await records.page('Leads', { fields: 'Last_Name,Email', sort_by: 'Email', sort_order: 'asc', per_page: '1' });
    expect(page.data).toEqual([{ Last_Name: 'Clark', Email: 'carl@records.example', id: ids.carl }]);
  });

  it('refuses a per_page above 200', async () => {
    const res = await records.get('/crm/v2.1/Leads', { per_page: '201' });
    expect([res.status, res.json.code, res.json.status]).toEqual([400, 'INVALID_DATA', 'error']);
  });

  it('answers 204 with no body for a module without records', async () => {
    const res = await records.get('/crm/v2.1/Deals');
    expect([res.status, res.text]).toEqual([204, '']);
  });

  it('answers INVALID_MODULE for a module that does not exist', async () => {
    const res = await records.get('/crm/v2.1/Spaceships');
    expect([res.status, res.json.code, res.json.status]).toEqual([400, 'INVALID_MODULE', 'error']);
  });
});

describe('GET /crm/v2.1/{module}/{id}', () => {
  it('gives the record with users as {name, id, email} and times with the org offset', async () => {
    const res = await records.get(`/crm/v2.1/Leads/${ids.patricia}`);
    expect(res.status).toBe(200);
    const data = res.json.data as Record<string, unknown>[];
    expect(data).toHaveLength(1);
    const r = data[0] as Record<string, unknown>;
    expect(r).toMatchObject({
      id: ids.patricia, Last_Name: 'Boyle', First_Name: 'Patricia', Email: 'pb@records.example', Company: 'Zylker',
      Phone: '555-0100', No_of_Employees: 120, Lead_Source: 'Cold Call', Annual_Revenue: null, Description: null,
      Owner: admin, Created_By: admin, Modified_By: admin,
    });
    expect(r.id).toMatch(DIGITS);
    expect(r.Created_Time).toMatch(ISO_OFFSET);
    expect(r.Modified_Time).toBe(r.Created_Time);
  });

  it('gives a lookup as {name, id} and a date as yyyy-MM-dd; empty ones as null', async () => {
    expect(await records.fields('Contacts', ids.contact as string, ['Account_Name', 'Date_of_Birth'])).toEqual({
      Account_Name: { name: 'Zylker Inc', id: ids.zylker }, Date_of_Birth: '1990-12-31',
    });
    expect(await records.fields('Contacts', ids.solo as string, ['Account_Name', 'Date_of_Birth'])).toEqual({ Account_Name: null, Date_of_Birth: null });
  });

  it('shows a later update in the values and in Modified_Time, not in Created_Time', async () => {
    const before = await records.record('Leads', ids.dana as string);
    await new Promise((r) => setTimeout(r, 1100));
    const out = await importer.importCsv(csvText(['Email', 'Company'], [['dana@records.example', 'Initech 2']]), (f) =>
      jobBody('update', 'Leads', f, byPosition('Email', 'Company'), { find_by: 'Email' }),
    );
    expect(out.rows[0]?.STATUS).toBe('UPDATED');
    const after = await records.record('Leads', ids.dana as string);
    expect(after.Company).toBe('Initech 2');
    expect(after.Created_Time).toBe(before.Created_Time);
    expect(after.Modified_Time).toMatch(ISO_OFFSET);
    expect(Date.parse(after.Modified_Time as string)).toBeGreaterThan(Date.parse(before.Modified_Time as string));
  });

  it('refuses an id that is no record of the module', async () => {
    const res = await records.get('/crm/v2.1/Leads/1234567000000000009');
    expect([res.status, res.json.code]).toEqual([400, 'INVALID_DATA']);
  });
});

describe('GET /crm/v2.1/{module}/search', () => {
  const search = async (query: Record<string, string>): Promise<string[]> => {
    const res = await records.get('/crm/v2.1/Leads/search', { ...query, sort_by: 'Email', sort_order: 'asc' });
    if (res.status === 204) return [];
    expect(res.status).toBe(200);
    return (res.json.data as Record<string, unknown>[]).map((r) => String(r.Email));
  };

  it.each([
    ['((Last_Name:equals:Boyle)and(Email:starts_with:pb))', ['pb@records.example']],
    ['(Last_Name:equals:Boyle)', ['pb@records.example', 'peter@records.example']],
    ['(Last_Name:equals:boyle)', ['pb@records.example', 'peter@records.example']],
    ['(Email:starts_with:pb)', ['pb.adams@records.example', 'pb@records.example']],
    ['((Company:equals:Zylker)or(Lead_Source:equals:Partner))', ['dana@records.example', 'pb.adams@records.example', 'pb@records.example']],
    ['(Lead_Source:in:Cold Call,Trade Show)', ['carl@records.example', 'pb.adams@records.example', 'pb@records.example']],
    ['(No_of_Employees:greater_than:100)', ['pb.adams@records.example', 'pb@records.example']],
    ['(No_of_Employees:between:10,50)', ['dana@records.example', 'peter@records.example']],
    ['(Last_Name:not_equal:Boyle)', ['carl@records.example', 'dana@records.example', 'pb.adams@records.example']],
  ])('criteria %s', async (criteria, emails) => {
    expect(await search({ criteria })).toEqual(emails);
  });

  it('searches by email, phone and word', async () => {
    expect(await search({ email: 'carl@records.example' })).toEqual(['carl@records.example']);
    expect(await search({ phone: '555-0104' })).toEqual(['dana@records.example']);
    expect(await search({ word: 'Globex' })).toEqual(['carl@records.example']);
  });

  it('answers with the page info of the matches', async () => {
    const res = await records.get('/crm/v2.1/Leads/search', { criteria: '(Last_Name:equals:Boyle)', per_page: '1' });
    expect(res.status).toBe(200);
    expect(res.json.info).toEqual({ per_page: 1, count: 1, page: 1, more_records: true });
  });

  it('answers 204 with no body when nothing matches', async () => {
    const res = await records.get('/crm/v2.1/Leads/search', { criteria: '(Last_Name:equals:Nobody)' });
    expect([res.status, res.text]).toEqual([204, '']);
  });

  it('refuses criteria it cannot parse or that name an unknown field', async () => {
    const broken = await records.get('/crm/v2.1/Leads/search', { criteria: '(Last_Name:equals:Boyle' });
    expect([broken.status, broken.json.status]).toEqual([400, 'error']);
    const unknown = await records.get('/crm/v2.1/Leads/search', { criteria: '(Shoe_Size:equals:9)' });
    expect([unknown.status, unknown.json.status]).toEqual([400, 'error']);
  });
});

describe('metadata and users', () => {
  it('GET /crm/v2.1/settings/modules lists the standard modules', async () => {
    const res = await records.get('/crm/v2.1/settings/modules');
    expect(res.status).toBe(200);
    const modules = res.json.modules as Record<string, unknown>[];
    expect(modules.map((m) => m.api_name)).toEqual(['Leads', 'Contacts', 'Accounts', 'Deals']);
    for (const m of modules) {
      expect(m.id).toMatch(DIGITS);
      expect(m).toMatchObject({ api_supported: true, generated_type: 'default', module_name: m.plural_label });
    }
    expect(modules[0]).toMatchObject({ api_name: 'Leads', singular_label: 'Lead', plural_label: 'Leads' });
  });

  it('GET /crm/v2.1/settings/fields?module=Leads describes each field', async () => {
    const res = await records.get('/crm/v2.1/settings/fields', { module: 'Leads' });
    expect(res.status).toBe(200);
    const fields = res.json.fields as Record<string, unknown>[];
    const byName = new Map(fields.map((f) => [f.api_name, f]));
    expect([...byName.keys()]).toEqual([
      'Owner', 'First_Name', 'Last_Name', 'Email', 'Company', 'Phone', 'Mobile', 'Website', 'Lead_Source', 'Lead_Status',
      'Industry', 'Annual_Revenue', 'No_of_Employees', 'Description',
    ]);
    expect(byName.get('Last_Name')).toMatchObject({ data_type: 'text', json_type: 'string', length: 80, system_mandatory: true, field_label: 'Last Name' });
    expect(byName.get('Email')).toMatchObject({ data_type: 'email', length: 100, system_mandatory: false, unique: { casesensitive: 'false' } });
    expect(byName.get('Owner')).toMatchObject({ data_type: 'ownerlookup', json_type: 'jsonobject' });
    expect(byName.get('No_of_Employees')).toMatchObject({ data_type: 'integer', json_type: 'integer', length: 9 });
    expect(byName.get('Annual_Revenue')).toMatchObject({ data_type: 'currency', json_type: 'double' });
    const source = byName.get('Lead_Source') as { data_type: string; pick_list_values: { actual_value: string }[] };
    expect(source.data_type).toBe('picklist');
    expect(source.pick_list_values.slice(0, 3).map((v) => v.actual_value)).toEqual(['-None-', 'Advertisement', 'Cold Call']);
    for (const f of fields) expect(f.id).toMatch(DIGITS);
  });

  it('GET /crm/v2.1/settings/fields?module=Contacts names the module a lookup looks up', async () => {
    const res = await records.get('/crm/v2.1/settings/fields', { module: 'Contacts' });
    const account = (res.json.fields as Record<string, unknown>[]).find((f) => f.api_name === 'Account_Name');
    expect(account).toMatchObject({ data_type: 'lookup', json_type: 'jsonobject', lookup: { module: 'Accounts', api_name: 'Account_Name' } });
    expect((account?.lookup as { id: string }).id).toMatch(DIGITS);
  });

  it('GET /crm/v2.1/users lists the org\'s users', async () => {
    const res = await records.get('/crm/v2.1/users');
    expect(res.status).toBe(200);
    expect(res.json.users).toEqual([
      expect.objectContaining({ id: server.userId, full_name: 'Bulkwright Admin', email: 'admin@bulkwright.local', status: 'active' }),
    ]);
    expect(res.json.info).toMatchObject({ count: 1, more_records: false });
  });
});
