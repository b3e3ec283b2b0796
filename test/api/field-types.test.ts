/**
 * Each data type's accepted and rejected CSV values (reference §9.6): an accepted value is ADDED and
 * reads back through the records API in Zoho's v2.1 form; a rejected one is SKIPPED with
 * INVALID_DATA-<field>, leaving the other rows of the file alone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawApi } from '../support/api-client.js';
import { applySchema, GADGETS_SCHEMA } from '../support/custom-schema.js';
import { csvText, fileCounts, Importer, jobBody, labelIds, lines, type MappingInput } from '../support/import-run.js';
import { RecordsApi } from '../support/records-client.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let importer: Importer;
let records: RecordsApi;

const ADMIN = { name: 'Bulkwright Admin', email: 'admin@bulkwright.local' };
const UNKNOWN_USER_ID = '1234567000000000001';

beforeAll(async () => {
  server = await startTestServer();
  await applySchema(server, GADGETS_SCHEMA);
  importer = new Importer(new RawApi(server, server.token));
  records = new RecordsApi(server, server.token);
});

afterAll(async () => {
  await server.close();
});

/** `read` is the value the records API gives back; a case without it must be rejected. */
interface TypeCase {
  readonly cell: string;
  readonly read?: unknown;
}

interface TypeTable {
  readonly type: string;
  readonly module: 'Leads' | 'Contacts' | 'Gadgets';
  readonly field: string;
  readonly mapping?: Partial<MappingInput>;
  readonly cases: readonly TypeCase[];
}

const ok = (cell: string, read: unknown = cell): TypeCase => ({ cell, read });
const bad = (cell: string): TypeCase => ({ cell });
const adminRef = (): unknown => ({ name: ADMIN.name, id: server.userId, email: ADMIN.email });

const TABLES: readonly TypeTable[] = [
  {
    type: 'text (40)', module: 'Leads', field: 'First_Name',
    cases: [ok('Ann'), ok('Zoë Ñúñez-Ørsted'), ok('x'.repeat(40)), ok('日本語の名前'), bad('x'.repeat(41))],
  },
  {
    type: 'email (100)', module: 'Leads', field: 'Email',
    cases: [
      ok('pat.boyle+crm@zylker.co.uk'), ok(`${'a'.repeat(94)}@x.com`),
      bad('not-an-email'), bad('pb@zylker'), bad('p b@zylker.com'), bad('pb@@zylker.com'), bad(`${'a'.repeat(95)}@x.com`),
    ],
  },
  {
    type: 'phone (30)', module: 'Leads', field: 'Phone',
    cases: [ok('+1 (555) 010-0199'), ok('9845000001'), ok('+91 98450 00001'), bad('call me'), bad('1'.repeat(31))],
  },
  {
    type: 'website', module: 'Leads', field: 'Website',
    cases: [ok('www.zylker.com'), ok('https://zylker.com/about?x=1'), ok('http://crm.zylker.co.in:8080'), bad('zylker'), bad('not a site')],
  },
  {
    type: 'integer (9 digits)', module: 'Leads', field: 'No_of_Employees',
    cases: [ok('42', 42), ok('999999999', 999999999), ok('-5', -5), ok('0', 0), bad('1000000000'), bad('4.5'), bad('many')],
  },
  {
    type: 'currency (16 digits)', module: 'Leads', field: 'Annual_Revenue',
    cases: [ok('1234.56', 1234.56), ok('1000000', 1000000), ok('0.5', 0.5), bad('12345678901234567'), bad('lots'), bad('12.3.4')],
  },
  {
    type: 'picklist', module: 'Leads', field: 'Lead_Source',
    // An unknown value is kept and appended to the picklist, as Zoho does (reference §9.6).
    cases: [ok('Cold Call'), ok('Trade Show'), ok('Podcast Listener')],
  },
  {
    type: 'textarea (32000)', module: 'Leads', field: 'Description',
    cases: [ok('first line\nsecond line, with a comma'), ok('d'.repeat(32000)), bad('d'.repeat(32001))],
  },
  {
    type: 'date (default formats)', module: 'Contacts', field: 'Date_of_Birth',
    cases: [
      ok('12/31/1990', '1990-12-31'), ok('1990-12-31', '1990-12-31'), ok('02/29/2024', '2024-02-29'),
      bad('02/30/2023'), bad('31/12/1990'), bad('1990/12/31'), bad('yesterday'), bad('13/01/1990'),
    ],
  },
  {
    type: 'bigint', module: 'Gadgets', field: 'Serial',
    cases: [ok('123456789012345678'), ok('42'), bad('1234567890123456789'), bad('12ab'), bad('1.5')],
  },
  {
    type: 'double', module: 'Gadgets', field: 'Weight',
    cases: [ok('3.14', 3.14), ok('-0.5', -0.5), ok('10', 10), bad('pi'), bad('1.2.3')],
  },
  {
    type: 'percent', module: 'Gadgets', field: 'Discount',
    cases: [ok('12.5', 12.5), ok('100', 100), bad('half')],
  },
  {
    type: 'boolean', module: 'Gadgets', field: 'In_Stock',
    cases: [ok('true', true), ok('false', false), ok('TRUE', true), bad('maybe')],
  },
  {
    type: 'datetime (default formats, org zone +05:30)', module: 'Gadgets', field: 'Launched_At',
    cases: [
      ok('12/31/2020 23:59:59', '2020-12-31T23:59:59+05:30'),
      ok('2020-12-31T10:00:00+00:00', '2020-12-31T15:30:00+05:30'),
      ok('2021-06-01T08:15:00-04:00', '2021-06-01T17:45:00+05:30'),
      ok('2020-12-31T10:00:00', '2020-12-31T10:00:00+05:30'),
      bad('2020-12-31'), bad('12/31/2020 25:00:00'), bad('soon'),
    ],
  },
  {
    type: 'multi-select picklist', module: 'Gadgets', field: 'Colours',
    cases: [ok('Red;Blue', ['Red', 'Blue']), ok('Blue', ['Blue']), ok('Green;Red', ['Green', 'Red'])],
  },
];

/** A cell as the server's CSV writer quotes it. */
const quoted = (v: string): string => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

function nameFieldOf(module: TypeTable['module']): string {
  return module === 'Gadgets' ? 'Gadget_Name' : 'Last_Name';
}

describe('data types: accepted values are stored, rejected ones are INVALID_DATA for that row only', () => {
  it.each(TABLES)('$type: $module $field', async (t) => {
    const nameField = nameFieldOf(t.module);
    const names = t.cases.map((_, i) => `${t.field} ${i + 1}`);
    const out = await importer.importCsv(
      csvText([nameField, t.field], t.cases.map((c, i) => [names[i] as string, c.cell])),
      (f) => jobBody('insert', t.module, f, [{ api_name: nameField, index: 0 }, { api_name: t.field, index: 1, ...t.mapping }]),
    );

    let added = 0;
    const expected = t.cases.map((c, i) => {
      const echo = `${quoted(names[i] as string)},${quoted(c.cell)}`;
      return c.read === undefined ? `${echo},SKIPPED,,INVALID_DATA-${t.field}` : `${echo},ADDED,<new${++added}>,`;
    });
    expect(labelIds(out.csv)).toBe(lines(`${nameField},${t.field},STATUS,RECORD_ID,ERRORS`, ...expected));

    const readBack: unknown[] = [];
    for (const [i, c] of t.cases.entries()) {
      if (c.read !== undefined) readBack.push((await records.record(t.module, out.ids[i] as string))[t.field]);
    }
    expect(readBack).toEqual(t.cases.filter((c) => c.read !== undefined).map((c) => c.read));
  });

  it('appends an unknown picklist value to the field\'s picklist, after the values it had', async () => {
    const before = await fieldMeta('Leads', 'Industry');
    const out = await importer.importCsv(
      csvText(['Last_Name', 'Industry'], [['Pick 1', 'Space Mining'], ['Pick 2', 'Space Mining'], ['Pick 3', 'Retail']]),
      (f) => jobBody('insert', 'Leads', f, [{ api_name: 'Last_Name', index: 0 }, { api_name: 'Industry', index: 1 }]),
    );
    expect(out.rows.map((r) => r.STATUS)).toEqual(['ADDED', 'ADDED', 'ADDED']);
    const after = await fieldMeta('Leads', 'Industry');
    expect(after).toEqual([...before, 'Space Mining']);
  });

  it('stores a picklist value given in another case in the picklist\'s spelling, and a new value in its first spelling', async () => {
    const out = await importer.importCsv(
      csvText(['Last_Name', 'Industry'], [['Case 1', 'RETAIL'], ['Case 2', 'retail'], ['Case 3', 'Deep Sea Fishing'], ['Case 4', 'DEEP sea fishing'], ['Case 5', 'RETAIL']]),
      (f) => jobBody('insert', 'Leads', f, [{ api_name: 'Last_Name', index: 0 }, { api_name: 'Industry', index: 1 }]),
    );
    const stored = [];
    for (const id of out.ids) stored.push((await records.record('Leads', id as string)).Industry);
    expect(stored).toEqual(['Retail', 'Retail', 'Deep Sea Fishing', 'Deep Sea Fishing', 'Retail']);
    expect((await fieldMeta('Leads', 'Industry')).filter((v) => v.toLowerCase() === 'deep sea fishing')).toEqual(['Deep Sea Fishing']);
  });

  it('resolves an owner by user id and rejects an id that is no user of the org', async () => {
    const out = await importer.importCsv(
      csvText(['Last_Name', 'Owner'], [['Owned', server.userId], ['Orphan', UNKNOWN_USER_ID]]),
      (f) => jobBody('insert', 'Leads', f, [{ api_name: 'Last_Name', index: 0 }, { api_name: 'Owner', index: 1 }]),
    );
    expect(labelIds(out.csv, { admin: server.userId, unknown: UNKNOWN_USER_ID })).toBe(lines(
      'Last_Name,Owner,STATUS,RECORD_ID,ERRORS',
      'Owned,<admin>,ADDED,<new1>,',
      'Orphan,<unknown>,SKIPPED,,INVALID_DATA-Owner',
    ));
    expect((await records.record('Leads', out.ids[0] as string)).Owner).toEqual(adminRef());
  });

  it('resolves a user lookup by email and rejects an email that is no user of the org', async () => {
    const out = await importer.importCsv(
      csvText(['Gadget_Name', 'Reviewer'], [['Reviewed', 'ADMIN@bulkwright.local'], ['Unreviewed', 'nobody@bulkwright.local']]),
      (f) => jobBody('insert', 'Gadgets', f, [{ api_name: 'Gadget_Name', index: 0 }, { api_name: 'Reviewer', index: 1, find_by: 'email' }]),
    );
    expect(labelIds(out.csv)).toBe(lines(
      'Gadget_Name,Reviewer,STATUS,RECORD_ID,ERRORS',
      'Reviewed,ADMIN@bulkwright.local,ADDED,<new1>,',
      'Unreviewed,nobody@bulkwright.local,SKIPPED,,INVALID_DATA-Reviewer',
    ));
    expect((await records.record('Gadgets', out.ids[0] as string)).Reviewer).toEqual(adminRef());
  });

  it('sets Owner to the job\'s creator when the Owner cell is empty or Owner is not mapped', async () => {
    const out = await importer.importCsv(
      csvText(['Last_Name', 'Owner'], [['Default Owner', '']]),
      (f) => jobBody('insert', 'Leads', f, [{ api_name: 'Last_Name', index: 0 }, { api_name: 'Owner', index: 1 }]),
    );
    expect(fileCounts(out.job)).toMatchObject({ added_count: 1, skipped_count: 0 });
    expect((await records.record('Leads', out.ids[0] as string)).Owner).toEqual(adminRef());
  });

  it('sets Owner to the job\'s creator for an empty Owner cell under ignore_empty too', async () => {
    const out = await importer.importCsv(
      csvText(['Last_Name', 'Owner'], [['Ignored Owner', '']]),
      (f) => jobBody('insert', 'Leads', f, [{ api_name: 'Last_Name', index: 0 }, { api_name: 'Owner', index: 1 }], { ignore_empty: true }),
    );
    expect(fileCounts(out.job)).toMatchObject({ added_count: 1, skipped_count: 0 });
    expect((await records.record('Leads', out.ids[0] as string)).Owner).toEqual(adminRef());
  });
});

async function fieldMeta(module: string, apiName: string): Promise<string[]> {
  const res = await records.get('/crm/v2.1/settings/fields', { module });
  expect(res.status).toBe(200);
  const field = (res.json.fields as { api_name: string; pick_list_values: { actual_value: string }[] }[]).find((f) => f.api_name === apiName);
  if (!field) throw new Error(`no field ${apiName} in ${module}`);
  return field.pick_list_values.map((v) => v.actual_value);
}
