/**
 * Custom modules and fields declared by a schema document: they show in the metadata APIs, bulk write
 * imports into them with the same semantics as the standard modules, and their records read back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawApi } from '../support/api-client.js';
import { applySchema } from '../support/custom-schema.js';
import { byPosition, csvText, fileCounts, Importer, jobBody, labelIds, lines } from '../support/import-run.js';
import { RecordsApi } from '../support/records-client.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let api: RawApi;
let importer: Importer;
let records: RecordsApi;
let existingLead: string;

const SCHEMA = {
  modules: [
    {
      api_name: 'Projects',
      singular_label: 'Project',
      plural_label: 'Projects',
      fields: [
        { api_name: 'Project_Name', data_type: 'text', length: 100, mandatory: true, name_field: true },
        { api_name: 'Code', data_type: 'text', length: 10, unique: true },
        { api_name: 'Budget', data_type: 'currency' },
        { api_name: 'Start_Date', data_type: 'date' },
        { api_name: 'Kickoff_At', data_type: 'datetime' },
        { api_name: 'Client', data_type: 'lookup', lookup_module: 'Accounts' },
        { api_name: 'Manager', data_type: 'userlookup' },
        { api_name: 'Tags', data_type: 'multiselectpicklist', picklist_values: ['Internal', 'External'] },
        { api_name: 'Billable', data_type: 'boolean' },
      ],
    },
    {
      // No name_field: the first text field (Title) names a task.
      api_name: 'Tasks',
      fields: [
        { api_name: 'Title', data_type: 'text' },
        { api_name: 'Project', data_type: 'lookup', lookup_module: 'Projects' },
        { api_name: 'Hours', data_type: 'double' },
      ],
    },
    { api_name: 'Leads', fields: [{ api_name: 'Region', data_type: 'picklist', picklist_values: ['North', 'South'] }, { api_name: 'Score', data_type: 'integer' }] },
  ],
};

beforeAll(async () => {
  server = await startTestServer();
  api = new RawApi(server, server.token);
  importer = new Importer(api);
  records = new RecordsApi(server, server.token);
  // A lead that exists before its module gains fields.
  existingLead = (await importer.importCsv(csvText(['Last_Name'], [['Before Schema']]), (f) => jobBody('insert', 'Leads', f, byPosition('Last_Name')))).ids[0] as string;
  await applySchema(server, SCHEMA);
  await importer.importCsv(csvText(['Account_Name'], [['Zylker Client']]), (f) => jobBody('insert', 'Accounts', f, byPosition('Account_Name')));
});

afterAll(async () => {
  await server.close();
});

async function fieldsOf(module: string): Promise<Map<unknown, Record<string, unknown>>> {
  const res = await records.get('/crm/v2.1/settings/fields', { module });
  expect(res.status).toBe(200);
  return new Map((res.json.fields as Record<string, unknown>[]).map((f) => [f.api_name, f]));
}

describe('metadata of a schema', () => {
  it('lists the custom modules after the standard ones, marked custom', async () => {
    const res = await records.get('/crm/v2.1/settings/modules');
    const modules = res.json.modules as Record<string, unknown>[];
    expect(modules.map((m) => [m.api_name, m.generated_type])).toEqual([
      ['Leads', 'default'], ['Contacts', 'default'], ['Accounts', 'default'], ['Deals', 'default'], ['Projects', 'custom'], ['Tasks', 'custom'],
    ]);
    expect(modules[4]).toMatchObject({ singular_label: 'Project', plural_label: 'Projects', api_supported: true });
  });

  it('describes the custom fields with Zoho\'s data types, and gives the module an Owner', async () => {
    const fields = await fieldsOf('Projects');
    expect([...fields.keys()]).toEqual(['Owner', 'Project_Name', 'Code', 'Budget', 'Start_Date', 'Kickoff_At', 'Client', 'Manager', 'Tags', 'Billable']);
    expect(fields.get('Project_Name')).toMatchObject({ data_type: 'text', length: 100, system_mandatory: true });
    expect(fields.get('Code')).toMatchObject({ data_type: 'text', length: 10, unique: { casesensitive: 'false' } });
    expect(fields.get('Client')).toMatchObject({ data_type: 'lookup', json_type: 'jsonobject', lookup: { module: 'Accounts' } });
    expect(fields.get('Manager')).toMatchObject({ data_type: 'userlookup', json_type: 'jsonobject' });
    expect(fields.get('Tags')).toMatchObject({ data_type: 'multiselectpicklist', json_type: 'jsonarray' });
    expect(fields.get('Billable')).toMatchObject({ data_type: 'boolean', json_type: 'boolean' });
    expect(fields.get('Kickoff_At')).toMatchObject({ data_type: 'datetime', json_type: 'string' });
  });

  it('adds fields to a standard module after its own', async () => {
    const fields = await fieldsOf('Leads');
    expect([...fields.keys()].slice(-2)).toEqual(['Region', 'Score']);
    expect(fields.get('Region')).toMatchObject({ data_type: 'picklist' });
  });
});

describe('bulk write into a custom module', () => {
  it('inserts records of every custom field type and reads them back', async () => {
    const columns = ['Project_Name', 'Code', 'Budget', 'Start_Date', 'Kickoff_At', 'Client', 'Manager', 'Tags', 'Billable'];
    const out = await importer.importCsv(
      csvText(columns, [
        ['Apollo', 'AP-1', '250000.75', '01/15/2024', '01/15/2024 09:30:00', 'Zylker Client', 'admin@bulkwright.local', 'Internal;Research', 'true'],
        ['Gemini', 'GE-1', '', '', '', '', '', '', 'false'],
      ]),
      (f) => jobBody('insert', 'Projects', f, columns.map((api_name, index) => ({
        api_name, index, ...(api_name === 'Client' ? { find_by: 'Account_Name' } : api_name === 'Manager' ? { find_by: 'email' } : {}),
      }))),
    );
    expect(labelIds(out.csv)).toBe(lines(
      'Project_Name,Code,Budget,STATUS,RECORD_ID,ERRORS',
      'Apollo,AP-1,250000.75,ADDED,<new1>,',
      'Gemini,GE-1,,ADDED,<new2>,',
    ));
    const apollo = await records.record('Projects', out.ids[0] as string);
    const admin = { name: 'Bulkwright Admin', id: server.userId, email: 'admin@bulkwright.local' };
    expect(apollo).toMatchObject({
      Project_Name: 'Apollo', Code: 'AP-1', Budget: 250000.75, Start_Date: '2024-01-15', Kickoff_At: '2024-01-15T09:30:00+05:30',
      Manager: admin, Owner: admin, Tags: ['Internal', 'Research'], Billable: true,
    });
    expect((apollo.Client as { name: string }).name).toBe('Zylker Client');
    expect(await records.fields('Projects', out.ids[1] as string, ['Budget', 'Start_Date', 'Client', 'Manager', 'Tags', 'Billable'])).toEqual({
      Budget: null, Start_Date: null, Client: null, Manager: null, Tags: [], Billable: false,
    });
    // The unknown multi-select value was appended to the picklist.
    const tags = (await fieldsOf('Projects')).get('Tags') as { pick_list_values: { actual_value: string }[] };
    expect(tags.pick_list_values.map((v) => v.actual_value)).toEqual(['Internal', 'External', 'Research']);
  });

  it('upserts by a custom unique field, and reports a repeated value as DUPLICATE_DATA', async () => {
    const seeded = await importer.importCsv(csvText(['Project_Name', 'Code'], [['Mercury', 'ME-1']]), (f) => jobBody('insert', 'Projects', f, byPosition('Project_Name', 'Code')));
    const mercury = seeded.ids[0] as string;
    const out = await importer.importCsv(
      csvText(['Code', 'Project_Name', 'Budget'], [['me-1', 'Mercury II', '10'], ['VO-1', 'Voyager', '20']]),
      (f) => jobBody('upsert', 'Projects', f, byPosition('Code', 'Project_Name', 'Budget'), { find_by: 'Code' }),
    );
    expect(labelIds(out.csv, { mercury })).toBe(lines(
      'Code,Project_Name,Budget,STATUS,RECORD_ID,ERRORS',
      'me-1,Mercury II,10,UPDATED,<mercury>,',
      'VO-1,Voyager,20,ADDED,<new1>,',
    ));
    const dup = await importer.importCsv(
      csvText(['Project_Name', 'Code'], [['Viking', 'vo-1'], ['Pioneer', 'PI-1'], ['Pioneer Again', 'PI-1']]),
      (f) => jobBody('insert', 'Projects', f, byPosition('Project_Name', 'Code')),
    );
    expect(labelIds(dup.csv)).toBe(lines(
      'Project_Name,Code,STATUS,RECORD_ID,ERRORS',
      'Viking,vo-1,SKIPPED,,DUPLICATE_DATA-Code',
      'Pioneer,PI-1,ADDED,<new1>,',
      'Pioneer Again,PI-1,SKIPPED,,DUPLICATE_DATA-Code',
    ));
  });

  it('links a custom lookup by the looked-up custom module\'s name field, also from header names', async () => {
    const project = await importer.importCsv(csvText(['Project_Name'], [['Hermes']]), (f) => jobBody('insert', 'Projects', f, byPosition('Project_Name')));
    const hermes = project.ids[0] as string;
    const out = await importer.importCsv(
      csvText(['Title', 'Project.Project_Name', 'Hours'], [['Design', 'Hermes', '4.5'], ['Orphan', 'Nowhere', '1']]),
      (f) => jobBody('insert', 'Tasks', f, null),
    );
    expect(labelIds(out.csv)).toBe(lines(
      'Title,Project.Project_Name,Hours,STATUS,RECORD_ID,ERRORS',
      'Design,Hermes,4.5,ADDED,<new1>,',
      'Orphan,Nowhere,1,SKIPPED,,INVALID_DATA-Project',
    ));
    expect(await records.fields('Tasks', out.ids[0] as string, ['Title', 'Project', 'Hours'])).toEqual({
      Title: 'Design', Project: { name: 'Hermes', id: hermes }, Hours: 4.5,
    });
  });

  it('refuses a job that leaves a mandatory custom field unmapped, and skips rows where it is empty', async () => {
    const fileId = await importer.upload(csvText(['Code', 'Project_Name'], [['NO-1', ''], ['NO-2', 'Named']]));
    const unmapped = await api.createJob(jobBody('insert', 'Projects', fileId, [{ api_name: 'Code', index: 0 }]));
    expect([unmapped.status, unmapped.json.code]).toEqual([400, 'MANDATORY_FIELDS_NOT_MAPPED']);
    expect(unmapped.json.details).toMatchObject({ api_name: 'Project_Name' });
    const out = await importer.run(jobBody('insert', 'Projects', fileId, byPosition('Code', 'Project_Name')));
    expect(labelIds(out.csv)).toBe(lines('Code,Project_Name,STATUS,RECORD_ID,ERRORS', 'NO-1,,SKIPPED,,MANDATORY_NOT_FOUND-Project_Name', 'NO-2,Named,ADDED,<new1>,'));
    expect(fileCounts(out.job)).toMatchObject({ added_count: 1, skipped_count: 1 });
  });
});

describe('fields added to a standard module', () => {
  it('import like any other field, while records from before read them as null', async () => {
    const out = await importer.importCsv(
      csvText(['Last_Name', 'Region', 'Score'], [['After Schema', 'North', '88'], ['Bad Score', 'West', 'high']]),
      (f) => jobBody('insert', 'Leads', f, byPosition('Last_Name', 'Region', 'Score')),
    );
    expect(labelIds(out.csv)).toBe(lines(
      'Last_Name,Region,Score,STATUS,RECORD_ID,ERRORS',
      'After Schema,North,88,ADDED,<new1>,',
      'Bad Score,West,high,SKIPPED,,INVALID_DATA-Score',
    ));
    expect(await records.fields('Leads', out.ids[0] as string, ['Region', 'Score'])).toEqual({ Region: 'North', Score: 88 });
    expect(await records.fields('Leads', existingLead, ['Last_Name', 'Region', 'Score'])).toEqual({ Last_Name: 'Before Schema', Region: null, Score: null });
  });
});
