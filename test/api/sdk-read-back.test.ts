/**
 * Records imported by bulk write, read back through Zoho's official TypeScript SDK
 * (`RecordOperations.getRecords`, `ModulesOperations.getModules`). The SDK learns each field's type from
 * `/crm/v2.1/settings/modules` and `/settings/fields` and converts values by it, so these tests also
 * prove that the metadata answers have the shape the SDK expects.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawApi } from '../support/api-client.js';
import { byPosition, csvText, Importer, jobBody } from '../support/import-run.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { sdkGetModules, sdkGetRecords, sdkLearnedFields, type SdkReadTarget } from '../support/zoho-sdk-records.js';

let server: TestServer;
let importer: Importer;
let target: SdkReadTarget;
let workDir: string;

beforeAll(async () => {
  server = await startTestServer();
  importer = new Importer(new RawApi(server, server.token));
  workDir = await mkdtemp(path.join(tmpdir(), 'bulkwright-sdk-read-'));
  target = { baseUrl: server.baseUrl, token: server.token, workDir };
});

afterAll(async () => {
  await server.close();
  await rm(workDir, { recursive: true, force: true });
});

describe('the official TypeScript SDK reads back imported records', () => {
  it('RecordOperations.getRecords(\'Leads\') gives every imported lead with its values', async () => {
    const columns = ['Last_Name', 'First_Name', 'Email', 'Company', 'No_of_Employees', 'Annual_Revenue', 'Lead_Source'];
    const out = await importer.importCsv(
      csvText(columns, [
        ['Boyle', 'Patricia', 'pb@sdk.example', 'Zylker', '120', '1500000.5', 'Cold Call'],
        ['Müller', 'Zoë', 'zm@sdk.example', 'Café Ærø', '8', '', 'Podcast'],
      ]),
      (f) => jobBody('insert', 'Leads', f, byPosition(...columns)),
    );
    const [boyle, muller] = out.ids as [string, string];

    const page = await sdkGetRecords(target, 'Leads', [...columns, 'Owner'], { sort_by: 'id', sort_order: 'asc' });
    expect(page).toMatchObject({ status: 200, kind: 'records', info: { per_page: 200, count: 2, page: 1, more_records: false } });
    const owner = { name: 'Bulkwright Admin', id: server.userId, email: 'admin@bulkwright.local' };
    expect(page.records).toEqual([
      {
        id: boyle,
        values: {
          Last_Name: 'Boyle', First_Name: 'Patricia', Email: 'pb@sdk.example', Company: 'Zylker', No_of_Employees: 120,
          Annual_Revenue: 1500000.5, Lead_Source: 'Cold Call', Owner: owner,
        },
      },
      {
        id: muller,
        values: {
          Last_Name: 'Müller', First_Name: 'Zoë', Email: 'zm@sdk.example', Company: 'Café Ærø', No_of_Employees: 8,
          Annual_Revenue: null, Lead_Source: 'Podcast', Owner: owner,
        },
      },
    ]);
  });

  it('reads a contact\'s account lookup as a record with its name and id, and its date of birth', async () => {
    const account = await importer.importCsv(csvText(['Account_Name'], [['Zylker SDK']]), (f) => jobBody('insert', 'Accounts', f, byPosition('Account_Name')));
    const contact = await importer.importCsv(
      csvText(['Last_Name', 'Account_Name', 'Date_of_Birth'], [['Kent', 'Zylker SDK', '1990-12-31']]),
      (f) => jobBody('insert', 'Contacts', f, [
        { api_name: 'Last_Name', index: 0 }, { api_name: 'Account_Name', index: 1, find_by: 'Account_Name' }, { api_name: 'Date_of_Birth', index: 2 },
      ]),
    );
    const page = await sdkGetRecords(target, 'Contacts', ['Last_Name', 'Account_Name', 'Date_of_Birth']);
    expect(page.kind).toBe('records');
    expect(page.records).toEqual([
      {
        id: contact.ids[0],
        values: { Last_Name: 'Kent', Account_Name: { name: 'Zylker SDK', id: account.ids[0] }, Date_of_Birth: '1990-12-31T00:00:00.000Z' },
      },
    ]);
  });

  it('pages through the SDK with page and per_page', async () => {
    const first = await sdkGetRecords(target, 'Leads', ['Email'], { sort_by: 'Email', sort_order: 'asc', per_page: 1, page: 1 });
    expect(first.records.map((r) => r.values.Email)).toEqual(['pb@sdk.example']);
    expect(first.info).toEqual({ per_page: 1, count: 1, page: 1, more_records: true });
  });

  it('learned each field\'s type from /settings/fields: owners as users, lookups as records, picklists as choices', async () => {
    const learned = await sdkLearnedFields(target);
    expect(learned.leads?.Owner).toMatchObject({ type: 'core/com/zoho/crm/api/users/user', lookup: true });
    expect(learned.leads?.Last_Name).toMatchObject({ type: 'String', required: true });
    expect(learned.leads?.Lead_Source).toMatchObject({ type: 'utils/util/choice', picklist: true });
    // The picklist value the import appended is part of the metadata the SDK read.
    expect((learned.leads?.Lead_Source as { values: string[] }).values.at(-1)).toBe('Podcast');
    expect(learned.contacts?.Account_Name).toMatchObject({ type: 'core/com/zoho/crm/api/record/record', lookup: true });
  });

  it('gets "no content" for a module without records', async () => {
    const page = await sdkGetRecords(target, 'Deals', ['Deal_Name']);
    expect(page).toMatchObject({ status: 204, kind: 'empty', records: [] });
  });

  it('ModulesOperations.getModules() lists the modules', async () => {
    const res = await sdkGetModules(target);
    expect(res.status).toBe(200);
    expect(res.modules.map((m) => [m.apiName, m.singularLabel, m.pluralLabel])).toEqual([
      ['Leads', 'Lead', 'Leads'], ['Contacts', 'Contact', 'Contacts'], ['Accounts', 'Account', 'Accounts'], ['Deals', 'Deal', 'Deals'],
    ]);
    for (const m of res.modules) expect(m.id).toMatch(/^[1-9]\d{14,18}$/);
  });
});
