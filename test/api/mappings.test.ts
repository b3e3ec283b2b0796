/**
 * The mapping features of a resource (reference §5.5, §9.2–9.6): `index`, `format`, `default_value`,
 * `find_by` on lookup and user fields, `module`, `ignore_empty`, and header-named fields when a request
 * has no `field_mappings`. Each is proved by the result file and by the records it leaves behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawApi } from '../support/api-client.js';
import { applySchema } from '../support/custom-schema.js';
import { byPosition, csvText, Importer, jobBody, labelIds, lines, type MappingInput } from '../support/import-run.js';
import { RecordsApi } from '../support/records-client.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let api: RawApi;
let importer: Importer;
let records: RecordsApi;
/** Seeded accounts and contacts by label → id. */
const ids: Record<string, string> = {};

const ADMIN_EMAIL = 'admin@bulkwright.local';

beforeAll(async () => {
  server = await startTestServer();
  // A unique field other than the name, for lookups found by a unique field.
  await applySchema(server, { modules: [{ api_name: 'Accounts', fields: [{ api_name: 'Account_Number', data_type: 'text', length: 20, unique: true }] }] });
  api = new RawApi(server, server.token);
  importer = new Importer(api);
  records = new RecordsApi(server, server.token);

  const accounts = await importer.importCsv(
    csvText(['Account_Name', 'Account_Number'], [['Zylker', 'ACC-001'], ['Acme Corp', 'ACC-002']]),
    (f) => jobBody('insert', 'Accounts', f, byPosition('Account_Name', 'Account_Number')),
  );
  [ids.zylker, ids.acme] = accounts.ids as [string, string];
  const contacts = await importer.importCsv(
    csvText(['First_Name', 'Last_Name', 'Email'], [['Patricia', 'Boyle', 'pb@map.example'], ['Clark', 'Kent', 'ck@map.example']]),
    (f) => jobBody('insert', 'Contacts', f, byPosition('First_Name', 'Last_Name', 'Email')),
  );
  [ids.boyle, ids.kent] = contacts.ids as [string, string];
});

afterAll(async () => {
  await server.close();
});

function mappingsOf(job: Record<string, unknown>): unknown {
  return ((job.resource as Record<string, unknown>[])[0] as { field_mappings: unknown }).field_mappings;
}

const echo = (m: MappingInput): Record<string, unknown> => ({
  api_name: m.api_name, index: m.index ?? null, format: m.format ?? null, find_by: m.find_by ?? null,
  module: typeof m.module === 'object' ? m.module.api_name : m.module ?? null, default_value: m.default_value ?? null,
});

describe('index', () => {
  it('reads each field from the column its index names, whatever the column order, and ignores unmapped columns', async () => {
    const mappings = [{ api_name: 'Last_Name', index: 3 }, { api_name: 'Email', index: 1 }, { api_name: 'Company', index: 4 }];
    const out = await importer.importCsv(
      csvText(['Notes', 'E-mail address', 'Ignored', 'Surname', 'Firm'], [['n/a', 'ix@map.example', 'zzz', 'Indexed', 'Index Co']]),
      (f) => jobBody('insert', 'Leads', f, mappings),
    );
    // The echoed columns are the first three mapped columns in column order, under their CSV headers.
    expect(labelIds(out.csv)).toBe(lines('E-mail address,Surname,Firm,STATUS,RECORD_ID,ERRORS', 'ix@map.example,Indexed,Index Co,ADDED,<new1>,'));
    expect(mappingsOf(out.job)).toEqual(mappings.map(echo));
    expect(await records.fields('Leads', out.ids[0] as string, ['Last_Name', 'Email', 'Company', 'Description'])).toEqual({
      Last_Name: 'Indexed', Email: 'ix@map.example', Company: 'Index Co', Description: null,
    });
  });
});

describe('format', () => {
  const DATE_FORMATS: readonly [format: string, cell: string, stored: string][] = [
    ['yyyy/MM/dd', '1990/12/31', '1990-12-31'],
    ['dd-MM-yyyy', '31-12-1990', '1990-12-31'],
    ['dd.MM.yyyy', '05.07.1990', '1990-07-05'],
    ['MM-dd-yyyy', '07-05-1990', '1990-07-05'],
    ['d/M/yyyy', '5/7/1990', '1990-07-05'],
    ['dd/MM/yyyy', '29/02/2024', '2024-02-29'],
    ['MMM d, yyyy', 'Jul 5, 1990', '1990-07-05'],
    ['dd MMMM yyyy', '05 July 1990', '1990-07-05'],
  ];

  it.each(DATE_FORMATS)('reads a date in the format %s (%s → %s)', async (format, cell, stored) => {
    const mappings = [{ api_name: 'Last_Name', index: 0 }, { api_name: 'Date_of_Birth', index: 1, format }];
    const out = await importer.importCsv(csvText(['Last_Name', 'Date_of_Birth'], [['Dated', cell]]), (f) => jobBody('insert', 'Contacts', f, mappings));
    expect(out.rows[0]).toMatchObject({ STATUS: 'ADDED', ERRORS: '' });
    expect(mappingsOf(out.job)).toEqual(mappings.map(echo));
    expect((await records.record('Contacts', out.ids[0] as string)).Date_of_Birth).toBe(stored);
  });

  it('reads a two-digit year (yy) as Java does: within 80 years before and 20 years after today', async () => {
    const mappings = [{ api_name: 'Last_Name', index: 0 }, { api_name: 'Date_of_Birth', index: 1, format: 'dd/MM/yy' }];
    const out = await importer.importCsv(
      csvText(['Last_Name', 'Date_of_Birth'], [['Ninety', '05/07/90'], ['Twenty', '01/02/24']]),
      (f) => jobBody('insert', 'Contacts', f, mappings),
    );
    expect(out.rows.map((r) => r.STATUS)).toEqual(['ADDED', 'ADDED']);
    expect((await records.record('Contacts', out.ids[0] as string)).Date_of_Birth).toBe('1990-07-05');
    expect((await records.record('Contacts', out.ids[1] as string)).Date_of_Birth).toBe('2024-02-01');
  });

  it('reads one-digit months and days under two-letter patterns, as Java\'s parser does', async () => {
    const out = await importer.importCsv(
      csvText(['Last_Name', 'Date_of_Birth'], [['Excel', '2/3/2024']]),
      (f) => jobBody('insert', 'Contacts', f, byPosition('Last_Name', 'Date_of_Birth')),
    );
    expect(out.rows[0]).toMatchObject({ STATUS: 'ADDED', ERRORS: '' });
    expect((await records.record('Contacts', out.ids[0] as string)).Date_of_Birth).toBe('2024-02-03');
    const dashed = await importer.importCsv(
      csvText(['Last_Name', 'Date_of_Birth'], [['Dashed', '5-7-1990']]),
      (f) => jobBody('insert', 'Contacts', f, [{ api_name: 'Last_Name', index: 0 }, { api_name: 'Date_of_Birth', index: 1, format: 'dd-MM-yyyy' }]),
    );
    expect(dashed.rows[0]).toMatchObject({ STATUS: 'ADDED', ERRORS: '' });
    expect((await records.record('Contacts', dashed.ids[0] as string)).Date_of_Birth).toBe('1990-07-05');
  });

  it('reads datetimes in the format given, in the org\'s time zone unless the text has an offset', async () => {
    await applySchema(server, { modules: [{ api_name: 'Leads', fields: [{ api_name: 'Follow_Up_At', data_type: 'datetime' }] }] });
    const cases: readonly [format: string, cell: string, stored: string][] = [
      ['dd-MM-yyyy HH:mm:ss', '31-12-2020 18:30:00', '2020-12-31T18:30:00+05:30'],
      ['yyyy/MM/dd hh:mm a', '2020/12/31 06:30 PM', '2020-12-31T18:30:00+05:30'],
      ['MM/dd/yyyy HH:mm', '12/31/2020 09:05', '2020-12-31T09:05:00+05:30'],
      ["yyyy-MM-dd'T'HH:mm:ssXXX", '2020-12-31T13:00:00Z', '2020-12-31T18:30:00+05:30'],
      ["yyyy-MM-dd'T'HH:mm:ssXXX", '2020-12-31T08:00:00-05:00', '2020-12-31T18:30:00+05:30'],
    ];
    for (const [format, cell, stored] of cases) {
      const out = await importer.importCsv(
        csvText(['Last_Name', 'Follow_Up_At'], [['Timed', cell], ['Mistimed', '2020-12-31']]),
        (f) => jobBody('insert', 'Leads', f, [{ api_name: 'Last_Name', index: 0 }, { api_name: 'Follow_Up_At', index: 1, format }]),
      );
      expect(out.rows.map((r) => `${r.STATUS} ${r.ERRORS}`), format).toEqual(['ADDED ', 'SKIPPED INVALID_DATA-Follow_Up_At']);
      expect((await records.record('Leads', out.ids[0] as string)).Follow_Up_At, format).toBe(stored);
    }
  });

  it('refuses a job whose format cannot be parsed, or is given for a field that is not a date', async () => {
    const fileId = await importer.upload(csvText(['Last_Name', 'Date_of_Birth'], [['X', '1990-01-01']]));
    const unparsable = await api.createJob(jobBody('insert', 'Contacts', fileId, [
      { api_name: 'Last_Name', index: 0 }, { api_name: 'Date_of_Birth', index: 1, format: 'qq/ww/ee' },
    ]));
    expect([unparsable.status, unparsable.json.code]).toEqual([400, 'INVALID_FORMAT']);
    const notADate = await api.createJob(jobBody('insert', 'Contacts', fileId, [{ api_name: 'Last_Name', index: 0, format: 'yyyy-MM-dd' }]));
    expect([notADate.status, notADate.json.code]).toEqual([400, 'INVALID_FORMAT']);
  });
});

describe('default_value', () => {
  it('fills the empty cells of a mapped column and leaves filled cells alone', async () => {
    const mappings = [{ api_name: 'Last_Name', index: 0 }, { api_name: 'Company', index: 1, default_value: { value: 'Unknown Co' } }];
    const out = await importer.importCsv(
      csvText(['Last_Name', 'Company'], [['Filled', 'Real Co'], ['Empty', '']]),
      (f) => jobBody('insert', 'Leads', f, mappings),
    );
    expect(labelIds(out.csv)).toBe(lines('Last_Name,Company,STATUS,RECORD_ID,ERRORS', 'Filled,Real Co,ADDED,<new1>,', 'Empty,,ADDED,<new2>,'));
    expect(mappingsOf(out.job)).toEqual(mappings.map(echo));
    expect((await records.record('Leads', out.ids[0] as string)).Company).toBe('Real Co');
    expect((await records.record('Leads', out.ids[1] as string)).Company).toBe('Unknown Co');
  });

  it('fills an empty mandatory cell, so the row is added instead of MANDATORY_NOT_FOUND', async () => {
    const out = await importer.importCsv(
      csvText(['Last_Name', 'Email'], [['', 'anon@map.example']]),
      (f) => jobBody('insert', 'Leads', f, [{ api_name: 'Last_Name', index: 0, default_value: { value: 'Unknown' } }, { api_name: 'Email', index: 1 }]),
    );
    expect(labelIds(out.csv)).toBe(lines('Last_Name,Email,STATUS,RECORD_ID,ERRORS', ',anon@map.example,ADDED,<new1>,'));
    expect((await records.record('Leads', out.ids[0] as string)).Last_Name).toBe('Unknown');
  });

  it('without an index, sets the same value on every row', async () => {
    const mappings: MappingInput[] = [
      { api_name: 'Last_Name', index: 0 },
      { api_name: 'Lead_Source', default_value: { value: 'Trade Show' } },
      { api_name: 'No_of_Employees', default_value: { value: 250 } },
      { api_name: 'Owner', find_by: 'email', default_value: { value: ADMIN_EMAIL } },
    ];
    const out = await importer.importCsv(csvText(['Last_Name'], [['Const 1'], ['Const 2']]), (f) => jobBody('insert', 'Leads', f, mappings));
    expect(labelIds(out.csv)).toBe(lines('Last_Name,STATUS,RECORD_ID,ERRORS', 'Const 1,ADDED,<new1>,', 'Const 2,ADDED,<new2>,'));
    expect(mappingsOf(out.job)).toEqual(mappings.map(echo));
    for (const id of out.ids) {
      expect(await records.fields('Leads', id, ['Lead_Source', 'No_of_Employees', 'Owner'])).toEqual({
        Lead_Source: 'Trade Show', No_of_Employees: 250, Owner: { name: 'Bulkwright Admin', id: server.userId, email: ADMIN_EMAIL },
      });
    }
  });

  it('resolves a default lookup value like a cell: by the mapping\'s find_by', async () => {
    const out = await importer.importCsv(
      csvText(['Last_Name', 'Account'], [['Defaulted', ''], ['Explicit', 'Acme Corp']]),
      (f) => jobBody('insert', 'Contacts', f, [
        { api_name: 'Last_Name', index: 0 },
        { api_name: 'Account_Name', index: 1, find_by: 'Account_Name', default_value: { value: 'Zylker' } },
      ]),
    );
    expect(out.rows.map((r) => r.STATUS)).toEqual(['ADDED', 'ADDED']);
    expect((await records.record('Contacts', out.ids[0] as string)).Account_Name).toEqual({ name: 'Zylker', id: ids.zylker });
    expect((await records.record('Contacts', out.ids[1] as string)).Account_Name).toEqual({ name: 'Acme Corp', id: ids.acme });
  });

  it('refuses a default_value the field cannot hold', async () => {
    const fileId = await importer.upload(csvText(['Last_Name'], [['X']]));
    const res = await api.createJob(jobBody('insert', 'Leads', fileId, [
      { api_name: 'Last_Name', index: 0 }, { api_name: 'No_of_Employees', default_value: { value: 'many' } },
    ]));
    expect([res.status, res.json.code]).toEqual([400, 'INVALID_DATA']);
    expect(res.json.details).toMatchObject({ api_name: 'default_value', json_path: '$.resource[0].field_mappings[1].default_value' });
  });
});

describe('find_by on lookup fields', () => {
  const DEAL_COLUMNS = ['Deal_Name', 'Stage', 'Account', 'Contact'];

  async function importDeals(accountBy: string, contactBy: string, rows: readonly (readonly string[])[]) {
    return importer.importCsv(csvText(DEAL_COLUMNS, rows), (f) => jobBody('insert', 'Deals', f, [
      { api_name: 'Deal_Name', index: 0 },
      { api_name: 'Stage', index: 1 },
      { api_name: 'Account_Name', index: 2, find_by: accountBy },
      { api_name: 'Contact_Name', index: 3, find_by: contactBy },
    ]));
  }

  it('finds the looked-up record by id', async () => {
    const out = await importDeals('id', 'id', [
      ['By id', 'Qualification', ids.zylker as string, ids.boyle as string],
      ['Bad id', 'Qualification', '1234567000000000042', ids.kent as string],
    ]);
    expect(labelIds(out.csv, ids)).toBe(lines(
      'Deal_Name,Stage,Account,STATUS,RECORD_ID,ERRORS',
      'By id,Qualification,<zylker>,ADDED,<new1>,',
      'Bad id,Qualification,1234567000000000042,SKIPPED,,INVALID_DATA-Account_Name',
    ));
    expect(await records.fields('Deals', out.ids[0] as string, ['Account_Name', 'Contact_Name'])).toEqual({
      Account_Name: { name: 'Zylker', id: ids.zylker },
      Contact_Name: { name: 'Patricia Boyle', id: ids.boyle },
    });
  });

  it('finds the looked-up record by a unique field of its module', async () => {
    const out = await importDeals('Account_Number', 'Email', [
      ['By unique', 'Needs Analysis', 'ACC-002', 'CK@map.example'],
      ['Bad unique', 'Needs Analysis', 'ACC-999', 'nobody@map.example'],
    ]);
    expect(labelIds(out.csv)).toBe(lines(
      'Deal_Name,Stage,Account,STATUS,RECORD_ID,ERRORS',
      'By unique,Needs Analysis,ACC-002,ADDED,<new1>,',
      'Bad unique,Needs Analysis,ACC-999,SKIPPED,,"INVALID_DATA-Account_Name,Contact_Name"',
    ));
    expect(await records.fields('Deals', out.ids[0] as string, ['Account_Name', 'Contact_Name'])).toEqual({
      Account_Name: { name: 'Acme Corp', id: ids.acme },
      Contact_Name: { name: 'Clark Kent', id: ids.kent },
    });
  });

  it('finds the looked-up record by its module\'s name field', async () => {
    const out = await importDeals('Account_Name', 'Last_Name', [['By name', 'Closed Won', 'Acme Corp', 'Boyle']]);
    expect(out.rows[0]).toMatchObject({ STATUS: 'ADDED', ERRORS: '' });
    expect(await records.fields('Deals', out.ids[0] as string, ['Account_Name', 'Contact_Name'])).toEqual({
      Account_Name: { name: 'Acme Corp', id: ids.acme },
      Contact_Name: { name: 'Patricia Boyle', id: ids.boyle },
    });
  });

  it('finds the looked-up record by name whatever the case, as it does for accounts', async () => {
    const out = await importDeals('Account_Name', 'Last_Name', [['By name, lower case', 'Closed Won', 'acme corp', 'boyle']]);
    expect(out.rows[0]).toMatchObject({ STATUS: 'ADDED', ERRORS: '' });
    expect((await records.record('Deals', out.ids[0] as string)).Contact_Name).toEqual({ name: 'Patricia Boyle', id: ids.boyle });
  });

  it('refuses a job whose lookup find_by is not id, a unique field or the name field, or is missing', async () => {
    const fileId = await importer.upload(csvText(DEAL_COLUMNS, [['D', 'Qualification', 'Zylker', 'Boyle']]));
    const base = [{ api_name: 'Deal_Name', index: 0 }, { api_name: 'Stage', index: 1 }];
    const byPhone = await api.createJob(jobBody('insert', 'Deals', fileId, [...base, { api_name: 'Account_Name', index: 2, find_by: 'Phone' }]));
    expect([byPhone.status, byPhone.json.code]).toEqual([400, 'INVALID_DATA']);
    const missing = await api.createJob(jobBody('insert', 'Deals', fileId, [...base, { api_name: 'Account_Name', index: 2 }]));
    expect([missing.status, missing.json.code]).toEqual([400, 'MANDATORY_NOT_FOUND']);
    expect(missing.json.details).toEqual({ api_name: 'find_by', json_path: '$.resource[0].field_mappings[2].find_by' });
  });
});

describe('find_by on owner and user fields', () => {
  const OWNER_KEYS: readonly (readonly [string, () => string])[] = [
    ['id', (): string => server.userId],
    ['email', (): string => ADMIN_EMAIL],
  ];
  it.each(OWNER_KEYS)('finds the owner by %s', async (findBy, value) => {
    const out = await importer.importCsv(
      csvText(['Last_Name', 'Owner'], [['Owned', value()], ['Unowned', `9${value()}`]]),
      (f) => jobBody('insert', 'Leads', f, [{ api_name: 'Last_Name', index: 0 }, { api_name: 'Owner', index: 1, find_by: findBy }]),
    );
    expect(out.rows.map((r) => `${r.STATUS} ${r.ERRORS}`)).toEqual(['ADDED ', 'SKIPPED INVALID_DATA-Owner']);
    expect((await records.record('Leads', out.ids[0] as string)).Owner).toEqual({ name: 'Bulkwright Admin', id: server.userId, email: ADMIN_EMAIL });
  });

  it('refuses a job whose owner find_by is neither id nor email', async () => {
    const fileId = await importer.upload(csvText(['Last_Name', 'Owner'], [['X', 'Bulkwright Admin']]));
    const res = await api.createJob(jobBody('insert', 'Leads', fileId, [{ api_name: 'Last_Name', index: 0 }, { api_name: 'Owner', index: 1, find_by: 'full_name' }]));
    expect([res.status, res.json.code]).toEqual([400, 'INVALID_DATA']);
  });
});

describe('module', () => {
  it('accepts the looked-up module on a lookup mapping and echoes it', async () => {
    const mappings: MappingInput[] = [
      { api_name: 'Last_Name', index: 0 },
      { api_name: 'Account_Name', index: 1, find_by: 'Account_Name', module: 'Accounts' },
    ];
    const out = await importer.importCsv(csvText(['Last_Name', 'Account'], [['Moduled', 'Zylker']]), (f) => jobBody('insert', 'Contacts', f, mappings));
    expect(out.rows[0]).toMatchObject({ STATUS: 'ADDED', ERRORS: '' });
    expect(mappingsOf(out.job)).toEqual(mappings.map(echo));
    expect((await records.record('Contacts', out.ids[0] as string)).Account_Name).toEqual({ name: 'Zylker', id: ids.zylker });
  });

  it('refuses a module that is not the one the field looks up', async () => {
    const fileId = await importer.upload(csvText(['Last_Name', 'Account'], [['X', 'Zylker']]));
    const res = await api.createJob(jobBody('insert', 'Contacts', fileId, [
      { api_name: 'Last_Name', index: 0 }, { api_name: 'Account_Name', index: 1, find_by: 'Account_Name', module: 'Deals' },
    ]));
    expect([res.status, res.json.code]).toEqual([400, 'INVALID_DATA']);
    expect(res.json.details).toEqual({ api_name: 'module', json_path: '$.resource[0].field_mappings[1].module' });
  });
});

describe('ignore_empty', () => {
  it('lets a resource\'s ignore_empty override the top-level one', async () => {
    const seeded = await importer.importCsv(csvText(['Last_Name', 'Email', 'Company'], [['Override', 'override@map.example', 'Kept Co']]), (f) =>
      jobBody('insert', 'Leads', f, byPosition('Last_Name', 'Email', 'Company')),
    );
    const id = seeded.ids[0] as string;
    const out = await importer.importCsv(
      csvText(['Email', 'Company'], [['override@map.example', '']]),
      (f) => jobBody('update', 'Leads', f, byPosition('Email', 'Company'), { find_by: 'Email', ignore_empty: false }, { ignore_empty: true }),
    );
    expect(out.rows[0]).toMatchObject({ STATUS: 'UPDATED', RECORD_ID: id });
    expect((await records.record('Leads', id)).Company).toBeNull();
  });
});

describe('no field_mappings: the CSV header names the fields', () => {
  it('maps each column to the field its header names and echoes the derived mappings', async () => {
    const out = await importer.importCsv(
      csvText(['Last_Name', 'Email', 'Company', 'Lead_Source'], [['Headed', 'headed@map.example', 'Header Co', 'Web Research']]),
      (f) => jobBody('insert', 'Leads', f, null),
    );
    expect(labelIds(out.csv)).toBe(lines('Last_Name,Email,Company,STATUS,RECORD_ID,ERRORS', 'Headed,headed@map.example,Header Co,ADDED,<new1>,'));
    expect(mappingsOf(out.job)).toEqual(['Last_Name', 'Email', 'Company', 'Lead_Source'].map((api_name, index) => echo({ api_name, index })));
    expect(await records.fields('Leads', out.ids[0] as string, ['Last_Name', 'Email', 'Company', 'Lead_Source'])).toEqual({
      Last_Name: 'Headed', Email: 'headed@map.example', Company: 'Header Co', Lead_Source: 'Web Research',
    });
  });

  it('finds lookups named `Account_Name.id` by id and `Account_Name.Account_Name` by name', async () => {
    const byId = await importer.importCsv(
      csvText(['Last_Name', 'Account_Name.id'], [['Header Id', ids.acme as string], ['Header Bad Id', '1234567000000000077']]),
      (f) => jobBody('insert', 'Contacts', f, null),
    );
    expect(labelIds(byId.csv, { acme: ids.acme as string })).toBe(lines(
      'Last_Name,Account_Name.id,STATUS,RECORD_ID,ERRORS',
      'Header Id,<acme>,ADDED,<new1>,',
      'Header Bad Id,1234567000000000077,SKIPPED,,INVALID_DATA-Account_Name',
    ));
    expect(mappingsOf(byId.job)).toEqual([echo({ api_name: 'Last_Name', index: 0 }), echo({ api_name: 'Account_Name', index: 1, find_by: 'id' })]);
    expect((await records.record('Contacts', byId.ids[0] as string)).Account_Name).toEqual({ name: 'Acme Corp', id: ids.acme });

    const byName = await importer.importCsv(
      csvText(['Last_Name', 'Account_Name.Account_Name'], [['Header Name', 'Zylker'], ['Header Bad Name', 'Nowhere Ltd']]),
      (f) => jobBody('insert', 'Contacts', f, null),
    );
    expect(labelIds(byName.csv)).toBe(lines(
      'Last_Name,Account_Name.Account_Name,STATUS,RECORD_ID,ERRORS',
      'Header Name,Zylker,ADDED,<new1>,',
      'Header Bad Name,Nowhere Ltd,SKIPPED,,INVALID_DATA-Account_Name',
    ));
    expect(mappingsOf(byName.job)).toEqual([echo({ api_name: 'Last_Name', index: 0 }), echo({ api_name: 'Account_Name', index: 1, find_by: 'Account_Name' })]);
    expect((await records.record('Contacts', byName.ids[0] as string)).Account_Name).toEqual({ name: 'Zylker', id: ids.zylker });
  });

  it('upserts by a header-named find_by field', async () => {
    const seeded = await importer.importCsv(csvText(['Last_Name', 'Email'], [['Header Upsert', 'hu@map.example']]), (f) => jobBody('insert', 'Leads', f, null));
    const out = await importer.importCsv(
      csvText(['Email', 'Last_Name'], [['hu@map.example', 'Header Upsert 2'], ['hu2@map.example', 'Header Upsert New']]),
      (f) => jobBody('upsert', 'Leads', f, null, { find_by: 'Email' }),
    );
    expect(labelIds(out.csv, { seeded: seeded.ids[0] as string })).toBe(lines(
      'Email,Last_Name,STATUS,RECORD_ID,ERRORS',
      'hu@map.example,Header Upsert 2,UPDATED,<seeded>,',
      'hu2@map.example,Header Upsert New,ADDED,<new1>,',
    ));
  });

  it('refuses a header that names no field of the module', async () => {
    const fileId = await importer.upload(csvText(['Last_Name', 'Favourite_Colour'], [['X', 'Blue']]));
    const res = await api.createJob(jobBody('insert', 'Leads', fileId, null));
    expect([res.status, res.json.code]).toEqual([400, 'INVALID_FIELD']);
    expect(res.json.details).toMatchObject({ api_name: 'Favourite_Colour' });
  });
});
