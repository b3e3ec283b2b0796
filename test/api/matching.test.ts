/**
 * insert / update / upsert against records already in the store, matched by a unique field or id
 * (CONTRACT.md "Rows and results"; reference §7.2, §9.3, §9.4), and lookups resolved by name.
 */
import { describe, expect, it } from 'vitest';
import { byPosition, csvText, fileCounts, jobBody, labelIds, lines } from '../support/import-run.js';
import { useImportServer } from '../support/import-server.js';

const ctx = useImportServer();

const LEAD_FIELDS = ['Last_Name', 'Email', 'Company', 'Phone'] as const;
const LEAD_HEADER = [...LEAD_FIELDS];

/** Inserts leads (Last_Name, Email, Company, Phone) and returns their ids in row order. */
async function seedLeads(rows: readonly (readonly string[])[]): Promise<string[]> {
  const out = await ctx.importer.importCsv(csvText(LEAD_HEADER, rows), (f) => jobBody('insert', 'Leads', f, byPosition(...LEAD_FIELDS)));
  expect(out.rows.map((r) => r.STATUS)).toEqual(rows.map(() => 'ADDED'));
  return out.ids;
}

async function leadValues(id: string): Promise<Record<string, unknown>> {
  return ctx.records.fields('Leads', id, LEAD_FIELDS);
}

describe('upsert by Email', () => {
  it('updates the rows whose Email exists and adds the others: exactly the expected ADDED/UPDATED split', async () => {
    const [boyle, smith, jones, patel] = (await seedLeads([
      ['Boyle', 'pb@half.example', 'Zylker', '555-0100'],
      ['Smith', 'smith@half.example', 'Zylker', '555-0101'],
      ['Jones', 'jones@half.example', 'Acme', '555-0102'],
      ['Patel', 'patel@half.example', 'Acme', '555-0103'],
    ])) as [string, string, string, string];
    const before = await ctx.server.countRecords('Leads');

    const out = await ctx.importer.importCsv(
      csvText(LEAD_HEADER, [
        ['Boyle', 'pb@half.example', 'Zylker Corp', '555-0200'],
        ['Adams', 'adams@half.example', 'Globex', '555-0201'],
        ['Smith-Jones', 'smith@half.example', 'Initech', '555-0202'],
        ['Baker', 'baker@half.example', 'Globex', '555-0203'],
        ['Jones', 'jones@half.example', 'Acme Ltd', '555-0204'],
        ['Clark', 'clark@half.example', 'Umbrella', '555-0205'],
        ['Patel', 'patel@half.example', 'Acme Ltd', '555-0206'],
        ['Davis', 'davis@half.example', 'Umbrella', '555-0207'],
      ]),
      (f) => jobBody('upsert', 'Leads', f, byPosition(...LEAD_FIELDS), { find_by: 'Email' }),
    );

    expect(labelIds(out.csv, { boyle, smith, jones, patel })).toBe(lines(
      'Last_Name,Email,Company,STATUS,RECORD_ID,ERRORS',
      'Boyle,pb@half.example,Zylker Corp,UPDATED,<boyle>,',
      'Adams,adams@half.example,Globex,ADDED,<new1>,',
      'Smith-Jones,smith@half.example,Initech,UPDATED,<smith>,',
      'Baker,baker@half.example,Globex,ADDED,<new2>,',
      'Jones,jones@half.example,Acme Ltd,UPDATED,<jones>,',
      'Clark,clark@half.example,Umbrella,ADDED,<new3>,',
      'Patel,patel@half.example,Acme Ltd,UPDATED,<patel>,',
      'Davis,davis@half.example,Umbrella,ADDED,<new4>,',
    ));
    expect(fileCounts(out.job)).toMatchObject({ added_count: 4, updated_count: 4, skipped_count: 0, total_count: 8 });
    expect(await ctx.server.countRecords('Leads')).toBe(before + 4);
    expect(await leadValues(boyle)).toEqual({ Last_Name: 'Boyle', Email: 'pb@half.example', Company: 'Zylker Corp', Phone: '555-0200' });
    expect(await leadValues(smith)).toEqual({ Last_Name: 'Smith-Jones', Email: 'smith@half.example', Company: 'Initech', Phone: '555-0202' });
    expect(await leadValues(out.ids[1] as string)).toEqual({ Last_Name: 'Adams', Email: 'adams@half.example', Company: 'Globex', Phone: '555-0201' });
  });

  it('keeps the old value of every field whose cell is empty when ignore_empty is true', async () => {
    const [kept, other] = (await seedLeads([
      ['Keeper', 'keep@ignore.example', 'Old Co', '555-0300'],
      ['Other', 'other@ignore.example', 'Other Co', '555-0301'],
    ])) as [string, string];
    const out = await ctx.importer.importCsv(
      csvText(LEAD_HEADER, [
        ['Keeper-New', 'keep@ignore.example', '', ''],
        ['', 'other@ignore.example', 'Other Co 2', ''],
        ['Newbie', 'newbie@ignore.example', '', '555-0302'],
      ]),
      (f) => jobBody('upsert', 'Leads', f, byPosition(...LEAD_FIELDS), { find_by: 'Email' }, { ignore_empty: true }),
    );
    expect(labelIds(out.csv, { kept, other })).toBe(lines(
      'Last_Name,Email,Company,STATUS,RECORD_ID,ERRORS',
      'Keeper-New,keep@ignore.example,,UPDATED,<kept>,',
      ',other@ignore.example,Other Co 2,UPDATED,<other>,',
      'Newbie,newbie@ignore.example,,ADDED,<new1>,',
    ));
    expect(out.job.ignore_empty).toBe(true);
    expect(await leadValues(kept)).toEqual({ Last_Name: 'Keeper-New', Email: 'keep@ignore.example', Company: 'Old Co', Phone: '555-0300' });
    expect(await leadValues(other)).toEqual({ Last_Name: 'Other', Email: 'other@ignore.example', Company: 'Other Co 2', Phone: '555-0301' });
    expect(await leadValues(out.ids[2] as string)).toEqual({ Last_Name: 'Newbie', Email: 'newbie@ignore.example', Company: null, Phone: '555-0302' });
  });

  it('takes ignore_empty from the resource when the request gives it there (as the SDKs send it)', async () => {
    const [kept] = (await seedLeads([['Resource', 'res@ignore.example', 'Kept Co', '555-0310']])) as [string];
    const out = await ctx.importer.importCsv(
      csvText(LEAD_HEADER, [['Resource 2', 'res@ignore.example', '', '']]),
      (f) => jobBody('upsert', 'Leads', f, byPosition(...LEAD_FIELDS), { find_by: 'Email', ignore_empty: true }),
    );
    expect(out.rows[0]).toMatchObject({ STATUS: 'UPDATED', RECORD_ID: kept, ERRORS: '' });
    expect(await leadValues(kept)).toEqual({ Last_Name: 'Resource 2', Email: 'res@ignore.example', Company: 'Kept Co', Phone: '555-0310' });
  });

  it('empties the fields of empty cells when ignore_empty is false (the default)', async () => {
    const [emptied] = (await seedLeads([['Emptied', 'empty@ignore.example', 'Gone Co', '555-0320']])) as [string];
    const out = await ctx.importer.importCsv(
      csvText(LEAD_HEADER, [['Emptied', 'empty@ignore.example', '', '']]),
      (f) => jobBody('upsert', 'Leads', f, byPosition(...LEAD_FIELDS), { find_by: 'Email' }),
    );
    expect(out.rows[0]).toMatchObject({ STATUS: 'UPDATED', RECORD_ID: emptied });
    expect(out.job.ignore_empty).toBe(false);
    expect(await leadValues(emptied)).toEqual({ Last_Name: 'Emptied', Email: 'empty@ignore.example', Company: null, Phone: null });
  });

  it('matches an Email whatever its case', async () => {
    const [mixed] = (await seedLeads([['Mixed', 'Mixed.Case@Case.example', 'Case Co', '']])) as [string];
    const out = await ctx.importer.importCsv(
      csvText(LEAD_HEADER, [['Lower', 'mixed.case@case.example', 'Case Co 2', '']]),
      (f) => jobBody('upsert', 'Leads', f, byPosition(...LEAD_FIELDS), { find_by: 'Email' }),
    );
    expect(labelIds(out.csv, { mixed })).toBe(lines(
      'Last_Name,Email,Company,STATUS,RECORD_ID,ERRORS',
      'Lower,mixed.case@case.example,Case Co 2,UPDATED,<mixed>,',
    ));
  });

  it('updates, in a later row, the record an earlier row of the same file added', async () => {
    const out = await ctx.importer.importCsv(
      csvText(LEAD_HEADER, [
        ['First', 'twice@same.example', 'One', ''],
        ['Second', 'twice@same.example', 'Two', ''],
      ]),
      (f) => jobBody('upsert', 'Leads', f, byPosition(...LEAD_FIELDS), { find_by: 'Email' }),
    );
    expect(labelIds(out.csv)).toBe(lines(
      'Last_Name,Email,Company,STATUS,RECORD_ID,ERRORS',
      'First,twice@same.example,One,ADDED,<new1>,',
      'Second,twice@same.example,Two,UPDATED,<new1>,',
    ));
    expect(await leadValues(out.ids[0] as string)).toEqual({ Last_Name: 'Second', Email: 'twice@same.example', Company: 'Two', Phone: null });
  });

  it('upserts by id: a known id is UPDATED, an empty id cell ADDs a record', async () => {
    const [byId] = (await seedLeads([['ById', 'byid@id.example', 'Id Co', '']])) as [string];
    const out = await ctx.importer.importCsv(
      csvText(['id', 'Last_Name', 'Company'], [
        [byId, 'ById 2', 'Id Co 2'],
        ['', 'Fresh', 'Fresh Co'],
      ]),
      (f) => jobBody('upsert', 'Leads', f, byPosition('id', 'Last_Name', 'Company'), { find_by: 'id' }),
    );
    expect(labelIds(out.csv, { byId })).toBe(lines(
      'id,Last_Name,Company,STATUS,RECORD_ID,ERRORS',
      '<byId>,ById 2,Id Co 2,UPDATED,<byId>,',
      ',Fresh,Fresh Co,ADDED,<new1>,',
    ));
    expect(await leadValues(byId)).toEqual({ Last_Name: 'ById 2', Email: 'byid@id.example', Company: 'Id Co 2', Phone: null });
  });
});

describe('update', () => {
  it('updates matched records, skips unmatched ones with RESOURCE_NOT_FOUND and never creates a record', async () => {
    const [alpha, beta] = (await seedLeads([
      ['Alpha', 'alpha@update.example', 'A Co', '555-0400'],
      ['Beta', 'beta@update.example', 'B Co', '555-0401'],
    ])) as [string, string];
    const before = await ctx.server.countRecords('Leads');
    const out = await ctx.importer.importCsv(
      csvText(['Email', 'Company'], [
        ['alpha@update.example', 'A Co 2'],
        ['ghost@update.example', 'Ghost Co'],
        ['beta@update.example', 'B Co 2'],
      ]),
      (f) => jobBody('update', 'Leads', f, byPosition('Email', 'Company'), { find_by: 'Email' }),
    );
    expect(labelIds(out.csv, { alpha, beta })).toBe(lines(
      'Email,Company,STATUS,RECORD_ID,ERRORS',
      'alpha@update.example,A Co 2,UPDATED,<alpha>,',
      'ghost@update.example,Ghost Co,SKIPPED,,RESOURCE_NOT_FOUND-Email',
      'beta@update.example,B Co 2,UPDATED,<beta>,',
    ));
    expect(fileCounts(out.job)).toMatchObject({ added_count: 0, updated_count: 2, skipped_count: 1, total_count: 3 });
    expect(await ctx.server.countRecords('Leads')).toBe(before);
    // Fields not mapped in the update keep their values.
    expect(await leadValues(alpha)).toEqual({ Last_Name: 'Alpha', Email: 'alpha@update.example', Company: 'A Co 2', Phone: '555-0400' });
  });

  it('updates by id and reports an unknown id as RESOURCE_NOT_FOUND-id', async () => {
    const [gamma] = (await seedLeads([['Gamma', 'gamma@update.example', 'G Co', '']])) as [string];
    const out = await ctx.importer.importCsv(
      csvText(['id', 'Last_Name'], [
        [gamma, 'Gamma 2'],
        ['1234567000009999999', 'Nobody'],
      ]),
      (f) => jobBody('update', 'Leads', f, byPosition('id', 'Last_Name'), { find_by: 'id' }),
    );
    expect(labelIds(out.csv, { gamma, unknown: '1234567000009999999' })).toBe(lines(
      'id,Last_Name,STATUS,RECORD_ID,ERRORS',
      '<gamma>,Gamma 2,UPDATED,<gamma>,',
      '<unknown>,Nobody,SKIPPED,,RESOURCE_NOT_FOUND-id',
    ));
    expect(await leadValues(gamma)).toEqual({ Last_Name: 'Gamma 2', Email: 'gamma@update.example', Company: 'G Co', Phone: null });
  });

  it('moves a unique value to a record stored before the one that gives it up, within one batch', async () => {
    // Stored in the other order than the rows name them: a store that applied the batch's updates
    // in storage order, each checked at once, would see the value taken twice.
    const [to, from] = (await seedLeads([
      ['To', 'to@reorder.example', '', ''],
      ['From', 'moving@reorder.example', '', ''],
    ])) as [string, string];
    const out = await ctx.importer.importCsv(
      csvText(['id', 'Email'], [
        [from, 'moved-away@reorder.example'],
        [to, 'moving@reorder.example'],
      ]),
      (f) => jobBody('update', 'Leads', f, byPosition('id', 'Email'), { find_by: 'id' }),
    );
    expect(out.rows.map((r) => [r.STATUS, r.ERRORS])).toEqual([['UPDATED', ''], ['UPDATED', '']]);
    expect((await leadValues(to)).Email).toBe('moving@reorder.example');
    expect((await leadValues(from)).Email).toBe('moved-away@reorder.example');
  });

  it('moves a unique value from one record to another within one file when the first gives it up first', async () => {
    const [from, to] = (await seedLeads([
      ['From', 'moving@swap.example', '', ''],
      ['To', 'to@swap.example', '', ''],
    ])) as [string, string];
    const out = await ctx.importer.importCsv(
      csvText(['id', 'Email'], [
        [from, 'moved-away@swap.example'],
        [to, 'moving@swap.example'],
      ]),
      (f) => jobBody('update', 'Leads', f, byPosition('id', 'Email'), { find_by: 'id' }),
    );
    expect(out.rows.map((r) => [r.STATUS, r.ERRORS])).toEqual([['UPDATED', ''], ['UPDATED', '']]);
    expect((await leadValues(to)).Email).toBe('moving@swap.example');
  });
});

describe('insert with a resource find_by', () => {
  it('skips the rows that match an existing record with DUPLICATE_DATA and adds the others', async () => {
    const [existing] = (await seedLeads([['Existing', 'exists@insert.example', 'E Co', '']])) as [string];
    const out = await ctx.importer.importCsv(
      csvText(LEAD_HEADER, [
        ['Again', 'exists@insert.example', 'E Co 2', ''],
        ['Brand New', 'brand-new@insert.example', 'N Co', ''],
      ]),
      (f) => jobBody('insert', 'Leads', f, byPosition(...LEAD_FIELDS), { find_by: 'Email' }),
    );
    expect(labelIds(out.csv)).toBe(lines(
      'Last_Name,Email,Company,STATUS,RECORD_ID,ERRORS',
      'Again,exists@insert.example,E Co 2,SKIPPED,,DUPLICATE_DATA-Email',
      'Brand New,brand-new@insert.example,N Co,ADDED,<new1>,',
    ));
    expect(await leadValues(existing)).toEqual({ Last_Name: 'Existing', Email: 'exists@insert.example', Company: 'E Co', Phone: null });
  });
});

describe('insert of rows whose unique values stored records hold, in later batches', () => {
  // An insert job does not look its rows' unique values up first: the store refuses a taken one,
  // and the job redoes from its last checkpoint with lookups. Batches are 500 rows in these tests,
  // and one batch commits while the next is validated, so two batches are undone at once here.
  it('skips exactly those rows, and the result has one line per row in input order', async () => {
    const [early, late] = (await seedLeads([
      ['Early', 'taken-1799@batches.example', 'T Co', ''],
      ['Late', 'TAKEN-2300@batches.example', 'T Co', ''],
    ])) as [string, string];
    const before = await ctx.server.countRecords('Leads');
    const rows = Array.from({ length: 2600 }, (_, i) => {
      const email = i === 1799 ? 'Taken-1799@batches.example' : i === 2300 ? 'taken-2300@batches.example' : `row-${i}@batches.example`;
      return [`Row ${i}`, email, 'B Co', ''];
    });
    const out = await ctx.importer.importCsv(csvText(LEAD_HEADER, rows), (f) => jobBody('insert', 'Leads', f, byPosition(...LEAD_FIELDS)));

    expect(out.rows.map((r) => r.Last_Name)).toEqual(rows.map((r) => r[0]));
    expect(out.rows.filter((r) => r.STATUS !== 'ADDED').map((r) => [r.Last_Name, r.STATUS, r.ERRORS])).toEqual([
      ['Row 1799', 'SKIPPED', 'DUPLICATE_DATA-Email'],
      ['Row 2300', 'SKIPPED', 'DUPLICATE_DATA-Email'],
    ]);
    expect(new Set(out.ids.filter((id) => id !== '')).size).toBe(2598);
    expect(fileCounts(out.job)).toMatchObject({ added_count: 2598, updated_count: 0, skipped_count: 2, total_count: 2600 });
    expect(await ctx.server.countRecords('Leads')).toBe(before + 2598);
    expect((await leadValues(early)).Last_Name).toBe('Early');
    expect((await leadValues(late)).Last_Name).toBe('Late');
  });
});

describe('unique values with accented letters', () => {
  async function seedAccount(name: string): Promise<string> {
    const out = await ctx.importer.importCsv(csvText(['Account_Name'], [[name]]), (f) => jobBody('insert', 'Accounts', f, byPosition('Account_Name')));
    expect(out.rows[0]?.STATUS).toBe('ADDED');
    return out.ids[0] as string;
  }

  it('reports a value differing only in the case of its accented letters as DUPLICATE_DATA within one file', async () => {
    const out = await ctx.importer.importCsv(csvText(['Account_Name'], [['Ökotech Zürich'], ['ÖKOTECH ZÜRICH']]), (f) =>
      jobBody('insert', 'Accounts', f, byPosition('Account_Name')),
    );
    expect(labelIds(out.csv)).toBe(lines(
      'Account_Name,STATUS,RECORD_ID,ERRORS',
      'Ökotech Zürich,ADDED,<new1>,',
      'ÖKOTECH ZÜRICH,SKIPPED,,DUPLICATE_DATA-Account_Name',
    ));
  });

  it('reports a value differing only in the case of its accented letters as DUPLICATE_DATA against the store', async () => {
    await seedAccount('Société Générale');
    const out = await ctx.importer.importCsv(csvText(['Account_Name'], [['SOCIÉTÉ GÉNÉRALE']]), (f) => jobBody('insert', 'Accounts', f, byPosition('Account_Name')));
    expect(out.csv).toBe(lines('Account_Name,STATUS,RECORD_ID,ERRORS', 'SOCIÉTÉ GÉNÉRALE,SKIPPED,,DUPLICATE_DATA-Account_Name'));
  });

  it('upserts onto the record whose unique value differs only in the case of its accented letters', async () => {
    const ecole = await seedAccount('ÉCOLE NORMALE');
    const out = await ctx.importer.importCsv(csvText(['Account_Name', 'Phone'], [['École Normale', '555-0600']]), (f) =>
      jobBody('upsert', 'Accounts', f, byPosition('Account_Name', 'Phone'), { find_by: 'Account_Name' }),
    );
    expect(labelIds(out.csv, { ecole })).toBe(lines('Account_Name,Phone,STATUS,RECORD_ID,ERRORS', 'École Normale,555-0600,UPDATED,<ecole>,'));
  });

  // J + combining caron lower-cases to j + caron, which NFC composes into one letter (ǰ): folding a
  // folded key again changes it, so keys must be folded exactly once on every path.
  it('upserts onto a record whose value lower-cases into a letter that NFC composes', async () => {
    const junction = await seedAccount('J\u030Cunction Ltd');
    const out = await ctx.importer.importCsv(csvText(['Account_Name', 'Phone'], [['J\u030Cunction Ltd', '555-0700']]), (f) =>
      jobBody('upsert', 'Accounts', f, byPosition('Account_Name', 'Phone'), { find_by: 'Account_Name' }),
    );
    expect(labelIds(out.csv, { junction })).toBe(lines('Account_Name,Phone,STATUS,RECORD_ID,ERRORS', 'J\u030Cunction Ltd,555-0700,UPDATED,<junction>,'));
  });

  it('frees such a value for a later row of the same file once its record gives it up', async () => {
    const first = await seedAccount('T\u0308ower Group');
    const out = await ctx.importer.importCsv(csvText(['id', 'Account_Name'], [[first, 'Renamed Group'], ['', 'T\u0308ower Group']]), (f) =>
      jobBody('upsert', 'Accounts', f, byPosition('id', 'Account_Name'), { find_by: 'id' }),
    );
    expect(labelIds(out.csv, { first })).toBe(lines(
      'id,Account_Name,STATUS,RECORD_ID,ERRORS',
      '<first>,Renamed Group,UPDATED,<first>,',
      ',T\u0308ower Group,ADDED,<new1>,',
    ));
  });
});

describe('a Contacts import with an Account_Name lookup by name', () => {
  it('links each contact to its account and rejects only the row naming an unknown account', async () => {
    const accounts = await ctx.importer.importCsv(
      csvText(['Account_Name', 'Phone'], [['Zylker Lookup', '555-0500'], ['Acme Lookup', '555-0501']]),
      (f) => jobBody('insert', 'Accounts', f, byPosition('Account_Name', 'Phone')),
    );
    const [zylker, acme] = accounts.ids as [string, string];

    const out = await ctx.importer.importCsv(
      csvText(['Last_Name', 'Email', 'Account_Name'], [
        ['Boyle', 'pb@contacts.example', 'Zylker Lookup'],
        ['Kent', 'kent@contacts.example', 'acme lookup'],
        ['Lost', 'lost@contacts.example', 'Unknown Inc'],
        ['Loner', 'loner@contacts.example', ''],
        ['Smith', 'smith@contacts.example', 'Acme Lookup'],
      ]),
      (f) => jobBody('insert', 'Contacts', f, [
        { api_name: 'Last_Name', index: 0 },
        { api_name: 'Email', index: 1 },
        { api_name: 'Account_Name', index: 2, find_by: 'Account_Name' },
      ]),
    );
    expect(labelIds(out.csv)).toBe(lines(
      'Last_Name,Email,Account_Name,STATUS,RECORD_ID,ERRORS',
      'Boyle,pb@contacts.example,Zylker Lookup,ADDED,<new1>,',
      'Kent,kent@contacts.example,acme lookup,ADDED,<new2>,',
      'Lost,lost@contacts.example,Unknown Inc,SKIPPED,,INVALID_DATA-Account_Name',
      'Loner,loner@contacts.example,,ADDED,<new3>,',
      'Smith,smith@contacts.example,Acme Lookup,ADDED,<new4>,',
    ));
    const [boyle, kent, , loner, smith] = out.ids as [string, string, string, string, string];
    expect((await ctx.records.record('Contacts', boyle)).Account_Name).toEqual({ name: 'Zylker Lookup', id: zylker });
    expect((await ctx.records.record('Contacts', kent)).Account_Name).toEqual({ name: 'Acme Lookup', id: acme });
    expect((await ctx.records.record('Contacts', loner)).Account_Name).toBeNull();
    expect((await ctx.records.record('Contacts', smith)).Account_Name).toEqual({ name: 'Acme Lookup', id: acme });
  });
});
