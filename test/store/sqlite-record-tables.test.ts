import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { composeId } from '../../src/domain/ids.js';
import { consecutiveBase, createRecordTableSql, RecordTable } from '../../src/store/sqlite/record-tables.js';
import { field, moduleDef } from '../unit/metadata-builders.js';
import { recordRows } from './store-builders.js';

describe('consecutiveBase', () => {
  const run = (from: number, n: number, prefix = 4150868): string[] => Array.from({ length: n }, (_, k) => composeId(prefix, from + k));

  it('gives the first id as an integer when every id follows the one before it', () => {
    expect(consecutiveBase(run(999_999_999_950, 50), 0, 50)).toBe(4150868999999999950n);
    expect(consecutiveBase(run(0, 3), 0, 3)).toBe(4150868000000000000n);
    expect(consecutiveBase(['x', ...run(7, 4)], 1, 4)).toBe(4150868000000000007n);
  });

  it('gives null for a gap, a step back, a repeat, another prefix or an id composeId does not spell', () => {
    const ids = run(100, 5);
    expect(consecutiveBase([...ids.slice(0, 2), ...ids.slice(3), composeId(4150868, 105)], 0, 5)).toBeNull();
    expect(consecutiveBase([...ids].reverse(), 0, 5)).toBeNull();
    expect(consecutiveBase([ids[0] as string, ids[0] as string], 0, 2)).toBeNull();
    expect(consecutiveBase([ids[0] as string, composeId(4150869, 101)], 0, 2)).toBeNull();
    // Same length and the right number, but not digits: what Number() would have read as 101.
    expect(Number('0000001.01e2')).toBe(101);
    expect(consecutiveBase([ids[0] as string, '41508680000001.01e2'], 0, 2)).toBeNull();
    expect(consecutiveBase([ids[0] as string, '4150868 00000000101'], 0, 2)).toBeNull();
    expect(consecutiveBase(['415086800000000100', '415086800000000101'], 0, 2)).toBeNull();
    expect(consecutiveBase(['a150868000000000100', 'a150868000000000101'], 0, 2)).toBeNull();
    // Text between two ids in string order, where an id of digits would be: ':' sorts after '9'.
    expect(consecutiveBase(['4150868000000000108', '415086800000000010:', '4150868000000000110'], 0, 3)).toBeNull();
    expect(consecutiveBase(['4150868000000000108', '415086800000000010\u0669', '4150868000000000110'], 0, 3)).toBeNull();
    expect(consecutiveBase(['4150868000000000108', '4150868000000000109', '4150868000000000110'], 0, 3)).toBe(4150868000000000108n);
  });
});

describe('RecordTable.update', () => {
  const leads = moduleDef('Leads', '4150868000000900001', [
    field('Last_Name', 'text'),
    field('Email', 'email', { unique: true }),
    field('Company', 'text'),
  ]);
  const ids = Array.from({ length: 130 }, (_, k) => composeId(4150868, 5_000 + k));
  const setUp = (): { db: Database.Database; table: RecordTable } => {
    const db = new Database(':memory:');
    db.defaultSafeIntegers(true);
    for (const sql of createRecordTableSql('rec_leads', leads.fields)) db.exec(sql);
    const table = new RecordTable(db, 'rec_leads', leads);
    table.insert(recordRows(ids.map((id, k) => ({ id, values: { Last_Name: `L${k}`, Email: `e${k}@zylker.com`, Company: 'Old' } })), { Created_Time: 't0', Modified_Time: 't0' }));
    return { db, table };
  };
  const stored = (table: RecordTable, id: string): Record<string, unknown> => table.find('id', [id], ['Last_Name', 'Email', 'Company', 'Modified_Time'])[0]?.values ?? {};

  it('applies runs of many rows as one row at a time would: in order, the last write to a record winning', () => {
    const { db, table } = setUp();
    // 120 rows with the same given columns (more than one statement takes), a record written
    // twice in the run, then rows that give other columns, and the first record once more.
    const first = ids.slice(0, 120).map((id, k) => ({ id, values: { Last_Name: `New${k}`, Company: `Co${k}` } }));
    const updates = [
      ...first.slice(0, 10),
      { id: ids[3] as string, values: { Last_Name: 'Three again', Company: 'Again' } },
      ...first.slice(10),
      { id: ids[7] as string, values: { Last_Name: 'Seven again', Company: 'Again' } },
      ...ids.slice(120, 125).map((id) => ({ id, values: { Company: 'Only company' } })),
      { id: ids[0] as string, values: { Last_Name: 'Zero last' } },
    ];
    table.update(recordRows(updates, { Modified_Time: 't1' }, ['Email']));
    expect(stored(table, ids[0] as string)).toEqual({ Last_Name: 'Zero last', Email: 'e0@zylker.com', Company: 'Co0', Modified_Time: 't1' });
    expect(stored(table, ids[3] as string)).toMatchObject({ Last_Name: 'Three again', Company: 'Again' });
    expect(stored(table, ids[7] as string)).toMatchObject({ Last_Name: 'Seven again', Company: 'Again' });
    expect(stored(table, ids[119] as string)).toMatchObject({ Last_Name: 'New119', Company: 'Co119', Modified_Time: 't1' });
    expect(stored(table, ids[122] as string)).toMatchObject({ Last_Name: 'L122', Company: 'Only company', Modified_Time: 't1' });
    expect(stored(table, ids[127] as string)).toMatchObject({ Last_Name: 'L127', Company: 'Old', Modified_Time: 't0' });
    db.close();
  });

  it('moves a unique value from one record to another in the order the rows give', () => {
    const { db, table } = setUp();
    // The first row frees e1@ for the second: applied in another order, the index would refuse it.
    table.update(recordRows([
      { id: ids[1] as string, values: { Email: 'moved@zylker.com', Company: 'A' } },
      { id: ids[2] as string, values: { Email: 'E1@zylker.com', Company: 'B' } },
      ...ids.slice(3, 60).map((id, k) => ({ id, values: { Email: `renamed${k}@zylker.com`, Company: 'C' } })),
    ], { Modified_Time: 't1' }));
    expect(stored(table, ids[1] as string)).toMatchObject({ Email: 'moved@zylker.com', Company: 'A' });
    expect(stored(table, ids[2] as string)).toMatchObject({ Email: 'E1@zylker.com', Company: 'B' });
    expect(table.findKeys('Email', ['e1@zylker.com'], ['Email']).map((r) => r.id)).toEqual([ids[2]]);
    expect(stored(table, ids[59] as string)).toMatchObject({ Email: 'renamed56@zylker.com' });
    db.close();
  });
});
