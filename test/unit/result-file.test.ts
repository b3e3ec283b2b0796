import { describe, expect, it } from 'vitest';
import type { FieldMapping } from '../../src/domain/job.js';
import type { RowOutcome } from '../../src/domain/row-result.js';
import { echoedColumns, resultEntryName, resultHeaderLine, resultLines } from '../../src/ingest/result-file.js';
import { eachCase } from './case-table.js';
import { recordBytesOf } from './record-bytes.js';

const mappedAt = (...indexes: (number | null)[]): FieldMapping[] =>
  indexes.map((index, k) => ({ apiName: `Field_${k}`, index, format: null, findBy: null, module: null, defaultValue: null }));

const added = (recordId: string): RowOutcome => ({ status: 'ADDED', recordId, errors: [] });

describe('echoedColumns', () => {
  eachCase([
    { spec: 'echoes the first three mapped columns in file order', indexes: [2, 0, 1], expected: [0, 1, 2] },
    { spec: 'echoes only three of five mapped columns', indexes: [4, 3, 2, 1, 0], expected: [0, 1, 2] },
    { spec: 'skips unmapped columns', indexes: [7, 5, 1, 9], expected: [1, 5, 7] },
    { spec: 'skips mappings set only by a default_value', indexes: [null, 5, 1], expected: [1, 5] },
    { spec: 'echoes a column mapped twice once', indexes: [1, 1, 3], expected: [1, 3] },
    { spec: 'sorts numerically, not as text', indexes: [10, 9, 2], expected: [2, 9, 10] },
    { spec: 'echoes nothing without mappings', indexes: [], expected: [] },
  ], ({ indexes, expected }) => {
    expect(echoedColumns(mappedAt(...indexes))).toEqual(expected);
  });
});

describe('resultHeaderLine', () => {
  it('names the echoed columns, then STATUS, RECORD_ID and ERRORS', () => {
    expect(resultHeaderLine(['Last_Name', 'Company', 'Email', 'Mobile'], [0, 1, 2]).toString('utf8')).toBe('Last_Name,Company,Email,STATUS,RECORD_ID,ERRORS\n');
  });

  it('quotes a header that holds a comma', () => {
    expect(resultHeaderLine(['Name, Full', 'Email'], [0, 1]).toString('utf8')).toBe('"Name, Full",Email,STATUS,RECORD_ID,ERRORS\n');
  });

  it('writes only the status columns when no column is echoed', () => {
    expect(resultHeaderLine(['Last_Name'], []).toString('utf8')).toBe('STATUS,RECORD_ID,ERRORS\n');
  });
});

describe('resultLines', () => {
  const echoed = [0, 1, 2];
  eachCase<{ spec: string; row: string[]; outcome: RowOutcome; expected: string }>([
    {
      spec: 'writes an added row with its record id and empty errors',
      row: ['Smith', 'Zylker', 'smith@zylker.com', 'ignored'],
      outcome: added('4150868000005350101'),
      expected: 'Smith,Zylker,smith@zylker.com,ADDED,4150868000005350101,\n',
    },
    {
      spec: 'writes a skipped row with an empty record id and its errors (the reference example)',
      row: ['Boyle', '', 'dup@zylker.com'],
      outcome: {
        status: 'SKIPPED',
        recordId: null,
        errors: [
          { code: 'MANDATORY_NOT_FOUND', field: 'Company' },
          { code: 'DUPLICATE_DATA', field: 'Email' },
        ],
      },
      expected: 'Boyle,,dup@zylker.com,SKIPPED,,MANDATORY_NOT_FOUND-Company:DUPLICATE_DATA-Email\n',
    },
    {
      spec: 'quotes the errors cell when it holds a comma',
      row: ['', '', 'a@zylker.com'],
      outcome: {
        status: 'SKIPPED',
        recordId: null,
        errors: [
          { code: 'MANDATORY_NOT_FOUND', field: 'Last_Name' },
          { code: 'MANDATORY_NOT_FOUND', field: 'Company' },
        ],
      },
      expected: ',,a@zylker.com,SKIPPED,,"MANDATORY_NOT_FOUND-Last_Name,Company"\n',
    },
    { spec: 'quotes a cell with a comma', row: ['Boyle, Patricia', 'Zylker', 'p@zylker.com'], outcome: added('1'), expected: '"Boyle, Patricia",Zylker,p@zylker.com,ADDED,1,\n' },
    { spec: 'doubles quotes inside a quoted cell', row: ['The "Big" One', 'Zylker', 'b@zylker.com'], outcome: added('1'), expected: '"The ""Big"" One",Zylker,b@zylker.com,ADDED,1,\n' },
    { spec: 'quotes a cell with a line break', row: ['Line 1\nLine 2', 'Zylker', 'l@zylker.com'], outcome: added('1'), expected: '"Line 1\nLine 2",Zylker,l@zylker.com,ADDED,1,\n' },
    { spec: 'leaves a semicolon unquoted in a comma file', row: ['a;b', 'Zylker', 's@zylker.com'], outcome: added('1'), expected: 'a;b,Zylker,s@zylker.com,ADDED,1,\n' },
    { spec: 'writes accented text as is', row: ['Müller', 'Café', 'm@zylker.com'], outcome: added('1'), expected: 'Müller,Café,m@zylker.com,ADDED,1,\n' },
    { spec: 'writes an empty cell for a column the row lacks', row: ['Short'], outcome: added('1'), expected: 'Short,,,ADDED,1,\n' },
    { spec: 'quotes a cell with a carriage return', row: ['a\rb', 'Zylker', 'r@zylker.com'], outcome: added('1'), expected: '"a\rb",Zylker,r@zylker.com,ADDED,1,\n' },
    { spec: 'writes text past the ASCII range after a plain start', row: ['Zoë Ærø', 'Zylker 😀', 'z@zylker.com'], outcome: added('1'), expected: 'Zoë Ærø,Zylker 😀,z@zylker.com,ADDED,1,\n' },
    { spec: 'quotes a cell whose quote comes after a plain start', row: ['Smith "Jr"', 'Zylker', 'q@zylker.com'], outcome: added('1'), expected: '"Smith ""Jr""",Zylker,q@zylker.com,ADDED,1,\n' },
    { spec: 'writes letters of two and three bytes, and a lone surrogate as UTF-8 does', row: ['ßø€中', 'Ab\ud800', 'x@zylker.com'], outcome: added('1'), expected: 'ßø€中,Ab\ufffd,x@zylker.com,ADDED,1,\n' },
    { spec: 'quotes accented text with a comma', row: ['Müller, Zoë', 'Zylker', 'c@zylker.com'], outcome: added('1'), expected: '"Müller, Zoë",Zylker,c@zylker.com,ADDED,1,\n' },
  ], ({ row, outcome, expected }) => {
    expect(resultLines([row], [outcome], echoed).toString('utf8')).toBe(expected);
  });

  it('writes one line per outcome, echoing the chosen columns of each row', () => {
    const rows = [
      ['a0', 'a1', 'a2', 'a3'],
      ['b0', 'b1', 'b2', 'b3'],
    ];
    const outcomes: RowOutcome[] = [added('11'), { status: 'UNPROCESSED', recordId: null, errors: [] }];
    expect(resultLines(rows, outcomes, [1, 3]).toString('utf8')).toBe('a1,a3,ADDED,11,\nb1,b3,UNPROCESSED,,\n');
  });

  it('grows its buffer for lines longer than it guessed, whatever their characters', () => {
    const long = (k: number): string[] => ['é"'.repeat(200 + k), ','.repeat(300), `${'x'.repeat(500)}\n😀`];
    const rows = Array.from({ length: 50 }, (_, k) => long(k));
    const outcomes = rows.map((_, k) => added(String(k + 1)));
    const quoted = (v: string): string => `"${v.replace(/"/g, '""')}"`;
    const expected = rows.map((r, k) => `${r.map(quoted).join(',')},ADDED,${k + 1},\n`).join('');
    expect(resultLines(rows, outcomes, [0, 1, 2]).toString('utf8')).toBe(expected);
  });

  it('writes nothing for no outcomes', () => {
    expect(resultLines([], [], echoed).toString('utf8')).toBe('');
  });
});

describe('resultEntryName', () => {
  it('names the entry {Module}-{uploaded csv name}', () => {
    expect(resultEntryName('Leads', 'Fil2.csv')).toBe('Leads-Fil2.csv');
  });
});

describe('resultLines past its first buffer', () => {
  it('writes long rows of any script whole, in order, however far they outgrow the first estimate', () => {
    const rows = Array.from({ length: 300 }, (_, i) => [`Ωmega ${'ş'.repeat(i * 7)}`, `"quoted", ${i}`, `😀${'x'.repeat(i)}`]);
    const outcomes = rows.map((_, i): RowOutcome => (i % 3 === 0
      ? { status: 'SKIPPED', recordId: null, errors: [{ code: 'INVALID_DATA', field: 'Émail' }] }
      : added(`41508680000053${String(i).padStart(5, '0')}`)));
    const quote = (v: string): string => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
    const expected = rows
      .map((r, i) => {
        const o = outcomes[i] as RowOutcome;
        return `${r.map(quote).join(',')},${o.status},${o.recordId ?? ''},${o.errors.length ? 'INVALID_DATA-Émail' : ''}\n`;
      })
      .join('');
    expect(Buffer.byteLength(expected)).toBeGreaterThan(300 * 96 * 2);
    expect(resultLines(rows, outcomes, [0, 1, 2]).toString('utf8')).toBe(expected);
  });
});

describe('resultLines echoing from the records’ bytes', () => {
  const bytesOf = (rows: readonly (readonly string[])[], delimiter = ',', noBytes: readonly number[] = []) => ({
    ...recordBytesOf(rows, delimiter, noBytes),
    delimiter: delimiter.charCodeAt(0),
  });

  const rows = [
    ['Zoë Ærø', 'Zylker 😀', 'z@zylker.com', 'more', 'cells'],
    ['a', 'b', 'c'],
    ['two', 'cells'],
    ['', '', '', ''],
    ['has, a comma', 'x', 'y'],
    ['tab\there', 'back\\slash', 'q'],
  ];
  const outcomes: RowOutcome[] = rows.map((_, k) => (k % 2 ? added(String(k)) : { status: 'SKIPPED', recordId: null, errors: [{ code: 'INVALID_DATA', field: 'Email' }] }));

  it.each([[[0, 1, 2]], [[0]], [[0, 1]], [[1, 3]], [[]]])('writes what the cells would, echoing %j', (echoed) => {
    // Row 4 had quotes in its file (its comma is inside a cell): no bytes.
    const fromBytes = resultLines(rows, outcomes, echoed, bytesOf(rows, ',', [4]));
    expect(fromBytes.toString('utf8')).toBe(resultLines(rows, outcomes, echoed).toString('utf8'));
  });

  it('sizes its lines by the records’ bytes, whose echoed cells were not read as strings', () => {
    // As a checked row is read (csv-byte-reader.ts checkedCells): '' for each cell it did not read.
    const long = Array.from({ length: 300 }, (_, i) => [`Ωmega ${'ş'.repeat(i * 7)}`, `😀${'x'.repeat(i)}`, `z${i}@zylker.com`, 'rest']);
    const unread = long.map((r) => r.map(() => ''));
    const ids = long.map((_, i) => added(`41508680000053${String(i).padStart(5, '0')}`));
    const lines = resultLines(unread, ids, [0, 1, 2], bytesOf(long));
    expect(lines.length).toBeGreaterThan(300 * 96 * 2);
    expect(lines.toString('utf8')).toBe(resultLines(long, ids, [0, 1, 2]).toString('utf8'));
  });

  it('echoes from the cells when the file’s delimiter is not a comma', () => {
    const semi = [['has, a comma', 'x', 'y']];
    const lines = resultLines(semi, [added('1')], [0, 1, 2], bytesOf(semi, ';'));
    expect(lines.toString('utf8')).toBe('"has, a comma",x,y,ADDED,1,\n');
  });
});
