/**
 * Every row error code of the result file (reference §7.2; CONTRACT.md "Rows and results"): the row at
 * fault is SKIPPED with `CODE-Column[,Column][:CODE-Column]`, every other row is processed.
 */
import { describe, expect, it } from 'vitest';
import { RawApi } from '../support/api-client.js';
import { byPosition, csvText, fileCounts, Importer, jobBody, labelIds, lines } from '../support/import-run.js';
import { useImportServer } from '../support/import-server.js';
import { startTestServer } from '../support/server.js';

const ctx = useImportServer();

const LEADS = ['Last_Name', 'First_Name', 'Email', 'Phone', 'No_of_Employees', 'Website'] as const;

/** Inserts rows of Last_Name, Email and No_of_Employees into Leads; the result CSV, its new ids labelled. */
async function insertLeads(rows: readonly (readonly string[])[]): Promise<string> {
  const fields = ['Last_Name', 'Email', 'No_of_Employees'];
  const out = await ctx.importer.importCsv(csvText(fields, rows), (f) => jobBody('insert', 'Leads', f, byPosition(...fields)));
  return labelIds(out.csv);
}

describe('row error codes', () => {
  it('reports each fault of a Leads file on its own row, with every error of a row in one ERRORS cell', async () => {
    await ctx.importer.importCsv(csvText(['Last_Name', 'Email'], [['Taken', 'taken@errors.example']]), (f) =>
      jobBody('insert', 'Leads', f, byPosition('Last_Name', 'Email')),
    );
    const before = await ctx.server.countRecords('Leads');
    const out = await ctx.importer.importCsv(
      csvText([...LEADS], [
        ['Good', 'Gail', 'good@errors.example', '555-0100', '12', 'zylker.com'],
        ['', 'Nameless', 'nameless@errors.example', '', '', ''],
        ['Typed', 'Tom', 'typed@errors.example', '', 'twelve', ''],
        ['Long', 'x'.repeat(41), 'long@errors.example', '', '', ''],
        ['Mailer', 'Mo', 'mo-at-errors.example', '', '', ''],
        ['Dup Store', 'Di', 'TAKEN@errors.example', '', '', ''],
        ['First', 'Fi', 'twice@errors.example', '', '', ''],
        ['Second', 'Se', 'Twice@Errors.example', '', '', ''],
        ['', 'Many', 'taken@errors.example', 'call me', '1e3', 'no site'],
        ['Last', 'La', 'last@errors.example', '', '', ''],
      ]),
      (f) => jobBody('insert', 'Leads', f, byPosition(...LEADS)),
    );
    expect(labelIds(out.csv)).toBe(lines(
      'Last_Name,First_Name,Email,STATUS,RECORD_ID,ERRORS',
      'Good,Gail,good@errors.example,ADDED,<new1>,',
      ',Nameless,nameless@errors.example,SKIPPED,,MANDATORY_NOT_FOUND-Last_Name',
      'Typed,Tom,typed@errors.example,SKIPPED,,INVALID_DATA-No_of_Employees',
      `Long,${'x'.repeat(41)},long@errors.example,SKIPPED,,INVALID_DATA-First_Name`,
      'Mailer,Mo,mo-at-errors.example,SKIPPED,,INVALID_DATA-Email',
      'Dup Store,Di,TAKEN@errors.example,SKIPPED,,DUPLICATE_DATA-Email',
      'First,Fi,twice@errors.example,ADDED,<new2>,',
      'Second,Se,Twice@Errors.example,SKIPPED,,DUPLICATE_DATA-Email',
      ',Many,taken@errors.example,SKIPPED,,"INVALID_DATA-Phone,No_of_Employees,Website:MANDATORY_NOT_FOUND-Last_Name:DUPLICATE_DATA-Email"',
      'Last,La,last@errors.example,ADDED,<new3>,',
    ));
    expect(fileCounts(out.job)).toMatchObject({ status: 'COMPLETED', added_count: 3, skipped_count: 7, updated_count: 0, total_count: 10 });
    expect(await ctx.server.countRecords('Leads')).toBe(before + 3);
  });

  // An insert leaves the taken values of the rows it writes to the unique indexes; a skipped row
  // never reaches them, so its value is looked up: here no other row makes the job redo the batch.
  it('reports DUPLICATE_DATA for a row skipped for another error whose Email a stored record holds', async () => {
    await ctx.importer.importCsv(csvText(['Last_Name', 'Email'], [['Holder', 'held@errors.example']]), (f) =>
      jobBody('insert', 'Leads', f, byPosition('Last_Name', 'Email')),
    );
    const csv = await insertLeads([
      ['Fine', 'fine@errors.example', '3'],
      ['Both', 'HELD@errors.example', 'lots'],
      ['', 'fine@errors.example', ''],
    ]);
    expect(csv).toBe(lines(
      'Last_Name,Email,No_of_Employees,STATUS,RECORD_ID,ERRORS',
      'Fine,fine@errors.example,3,ADDED,<new1>,',
      'Both,HELD@errors.example,lots,SKIPPED,,INVALID_DATA-No_of_Employees:DUPLICATE_DATA-Email',
      ',fine@errors.example,,SKIPPED,,MANDATORY_NOT_FOUND-Last_Name:DUPLICATE_DATA-Email',
    ));
  });

  it('does not let a skipped row claim its unique value: a later row with the same Email is added', async () => {
    const csv = await insertLeads([
      ['Skipped', 'claim@errors.example', 'lots'],
      ['Kept', 'claim@errors.example', '3'],
    ]);
    expect(csv).toBe(lines(
      'Last_Name,Email,No_of_Employees,STATUS,RECORD_ID,ERRORS',
      'Skipped,claim@errors.example,lots,SKIPPED,,INVALID_DATA-No_of_Employees',
      'Kept,claim@errors.example,3,ADDED,<new1>,',
    ));
  });

  it('rejects a date that does not fit the mapping\'s format with INVALID_DATA', async () => {
    const out = await ctx.importer.importCsv(
      csvText(['Last_Name', 'Date_of_Birth'], [['Fits', '31-12-1990'], ['Misfit', '1990/12/31'], ['US', '12/31/1990']]),
      (f) => jobBody('insert', 'Contacts', f, [{ api_name: 'Last_Name', index: 0 }, { api_name: 'Date_of_Birth', index: 1, format: 'dd-MM-yyyy' }]),
    );
    expect(labelIds(out.csv)).toBe(lines(
      'Last_Name,Date_of_Birth,STATUS,RECORD_ID,ERRORS',
      'Fits,31-12-1990,ADDED,<new1>,',
      'Misfit,1990/12/31,SKIPPED,,INVALID_DATA-Date_of_Birth',
      'US,12/31/1990,SKIPPED,,INVALID_DATA-Date_of_Birth',
    ));
  });

  it('reports an empty mandatory field on update as MANDATORY_NOT_FOUND when ignore_empty is false', async () => {
    const seeded = await ctx.importer.importCsv(csvText(['Last_Name', 'Email'], [['Mandatory', 'mandatory@errors.example']]), (f) =>
      jobBody('insert', 'Leads', f, byPosition('Last_Name', 'Email')),
    );
    const id = seeded.ids[0] as string;
    const out = await ctx.importer.importCsv(
      csvText(['Email', 'Last_Name', 'Company'], [['mandatory@errors.example', '', 'Blanked']]),
      (f) => jobBody('update', 'Leads', f, byPosition('Email', 'Last_Name', 'Company'), { find_by: 'Email' }),
    );
    expect(out.csv).toBe(lines('Email,Last_Name,Company,STATUS,RECORD_ID,ERRORS', 'mandatory@errors.example,,Blanked,SKIPPED,,MANDATORY_NOT_FOUND-Last_Name'));
    expect(await ctx.records.fields('Leads', id, ['Last_Name', 'Company'])).toEqual({ Last_Name: 'Mandatory', Company: null });
  });

  it('reports a ragged row (too few or too many cells) as CANNOT_PROCESS for that row only', async () => {
    const csv = [
      'Last_Name,Email,Company',
      'Even,even@ragged.example,Zylker',
      'Short,short@ragged.example',
      'Long,long@ragged.example,Zylker,extra',
      'After,after@ragged.example,Zylker',
      '',
    ].join('\r\n');
    const out = await ctx.importer.importCsv(csv, (f) => jobBody('insert', 'Leads', f, byPosition('Last_Name', 'Email', 'Company')));
    expect(labelIds(out.csv)).toBe(lines(
      'Last_Name,Email,Company,STATUS,RECORD_ID,ERRORS',
      'Even,even@ragged.example,Zylker,ADDED,<new1>,',
      'Short,short@ragged.example,,SKIPPED,,CANNOT_PROCESS',
      'Long,long@ragged.example,Zylker,SKIPPED,,CANNOT_PROCESS',
      'After,after@ragged.example,Zylker,ADDED,<new2>,',
    ));
    expect(fileCounts(out.job)).toMatchObject({ added_count: 2, skipped_count: 2, total_count: 4 });
  });

  it('reports RESOURCE_NOT_FOUND for an update row that matches nothing', async () => {
    const out = await ctx.importer.importCsv(
      csvText(['Email', 'Company'], [['nobody@errors.example', 'Nobody Co']]),
      (f) => jobBody('update', 'Leads', f, byPosition('Email', 'Company'), { find_by: 'Email' }),
    );
    expect(out.csv).toBe(lines('Email,Company,STATUS,RECORD_ID,ERRORS', 'nobody@errors.example,Nobody Co,SKIPPED,,RESOURCE_NOT_FOUND-Email'));
  });
});

describe('the per-CSV row limit', () => {
  it('processes rows up to the limit and reports every later row as LIMIT_EXCEEDED', async () => {
    const limited = await startTestServer({ limits: { maxRowsPerCsv: 3 } });
    try {
      const limitedImporter = new Importer(new RawApi(limited, limited.token));
      const out = await limitedImporter.importCsv(
        csvText(['Last_Name', 'Email'], [1, 2, 3, 4, 5].map((i) => [`Row ${i}`, `row${i}@limit.example`])),
        (f) => jobBody('insert', 'Leads', f, byPosition('Last_Name', 'Email')),
      );
      expect(labelIds(out.csv)).toBe(lines(
        'Last_Name,Email,STATUS,RECORD_ID,ERRORS',
        'Row 1,row1@limit.example,ADDED,<new1>,',
        'Row 2,row2@limit.example,ADDED,<new2>,',
        'Row 3,row3@limit.example,ADDED,<new3>,',
        'Row 4,row4@limit.example,SKIPPED,,LIMIT_EXCEEDED',
        'Row 5,row5@limit.example,SKIPPED,,LIMIT_EXCEEDED',
      ));
      expect(fileCounts(out.job)).toMatchObject({ added_count: 3, skipped_count: 2, updated_count: 0, total_count: 5 });
      expect(await limited.countRecords('Leads')).toBe(3);
    } finally {
      await limited.close();
    }
  });
});
