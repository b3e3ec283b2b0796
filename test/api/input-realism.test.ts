/**
 * CSV files as people's tools write them (reference §9.1; CONTRACT.md "Limits"): any of the four
 * delimiters, the common encodings (detected unless `character_encoding` says), CRLF or LF line ends,
 * quoted cells holding delimiters, quotes and line breaks. What is imported must read back intact.
 */
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { byPosition, fileCounts, jobBody, labelIds, lines, type ImportOutcome } from '../support/import-run.js';
import { useImportServer } from '../support/import-server.js';

const ctx = useImportServer();

const NAME_FIELDS = ['Last_Name', 'First_Name', 'Company'] as const;

async function namesOf(out: ImportOutcome): Promise<string[][]> {
  const got: string[][] = [];
  for (const id of out.ids) {
    const r = await ctx.records.fields('Leads', id, NAME_FIELDS);
    got.push(NAME_FIELDS.map((f) => String(r[f])));
  }
  return got;
}

describe('delimiters', () => {
  it.each([
    [',', 'comma', 'Last_Name,First_Name,Company\r\nBoyle,Patricia,"Zylker; Inc: Ltd|Co"\r\nKent,Clark,Daily Planet\r\n'],
    [';', 'semicolon', 'Last_Name;First_Name;Company\r\nBoyle;Patricia;Zylker, Inc.\r\nKent;Clark;"Daily; Planet"\r\n'],
    [':', 'colon', 'Last_Name:First_Name:Company\r\nBoyle:Patricia:Zylker, Inc.\r\nKent:Clark:"Daily: Planet"\r\n'],
    ['|', 'pipe', 'Last_Name|First_Name|Company\r\nBoyle|Patricia|Zylker, Inc.\r\nKent|Clark|"Daily| Planet"\r\n'],
  ])('detects the %s (%s) delimiter from the header line', async (delimiter, _name, csv) => {
    const out = await ctx.importer.importCsv(csv, (f) => jobBody('insert', 'Leads', f, byPosition(...NAME_FIELDS)));
    const company = (delimiter === ',' ? ['Zylker; Inc: Ltd|Co', 'Daily Planet'] : ['Zylker, Inc.', `Daily${delimiter} Planet`]);
    const quoted = (v: string) => (/[",]/.test(v) ? `"${v}"` : v);
    expect(labelIds(out.csv)).toBe(lines(
      'Last_Name,First_Name,Company,STATUS,RECORD_ID,ERRORS',
      `Boyle,Patricia,${quoted(company[0] as string)},ADDED,<new1>,`,
      `Kent,Clark,${quoted(company[1] as string)},ADDED,<new2>,`,
    ));
    expect(await namesOf(out)).toEqual([['Boyle', 'Patricia', company[0]], ['Kent', 'Clark', company[1]]]);
  });
});

describe('encodings', () => {
  const LATIN_ROWS = [
    ['Müller', 'François', 'Zoë Café'],
    ['O’Brien', 'Ærøskøbing', 'Škoda € Partners'],
    ['Nuñez', 'Ångström', 'Crème brûlée & Cie'],
  ];
  const JAPANESE_ROWS = [
    ['山田', '太郎', '株式会社ゾーホー'],
    ['佐藤', '花子', '東京システム開発株式会社'],
    ['鈴木', '一郎', 'ソフトウェア研究所'],
    ['高橋', '美咲', '大阪データサービス'],
  ];
  const text = (rows: readonly (readonly string[])[], delimiter = ',') =>
    [NAME_FIELDS.join(delimiter), ...rows.map((r) => r.join(delimiter))].join('\r\n') + '\r\n';
  const withBom = (bom: number[], body: Buffer) => Buffer.concat([Buffer.from(bom), body]);

  it.each([
    ['UTF-8', 'UTF-8', () => Buffer.from(text([...LATIN_ROWS, ...JAPANESE_ROWS]), 'utf8'), [...LATIN_ROWS, ...JAPANESE_ROWS]],
    ['UTF-8 with a BOM', 'UTF-8', () => withBom([0xef, 0xbb, 0xbf], Buffer.from(text(LATIN_ROWS), 'utf8')), LATIN_ROWS],
    ['UTF-16 LE with a BOM', 'UTF-16LE', () => withBom([0xff, 0xfe], iconv.encode(text([...LATIN_ROWS, ...JAPANESE_ROWS]), 'utf16le')), [...LATIN_ROWS, ...JAPANESE_ROWS]],
    ['UTF-16 BE with a BOM', 'UTF-16BE', () => withBom([0xfe, 0xff], iconv.encode(text([...LATIN_ROWS, ...JAPANESE_ROWS]), 'utf16be')), [...LATIN_ROWS, ...JAPANESE_ROWS]],
    ['Shift_JIS', 'Shift_JIS', () => iconv.encode(text(JAPANESE_ROWS), 'Shift_JIS'), JAPANESE_ROWS],
  ] as const)('detects %s and imports every character intact', async (_label, encoding, bytes, rows) => {
    const out = await ctx.importer.importCsv(bytes(), (f) => jobBody('insert', 'Leads', f, byPosition(...NAME_FIELDS)));
    expect(out.job.character_encoding).toBe(encoding);
    expect(fileCounts(out.job)).toMatchObject({ added_count: rows.length, skipped_count: 0 });
    expect(await namesOf(out)).toEqual(rows);
    // The result file is UTF-8 whatever the input was, its echoed cells decoded.
    expect(out.rows.map((r) => [r.Last_Name, r.First_Name, r.Company])).toEqual(rows);
  });

  // ’ € Š are the 0x80–0x9F bytes where Windows-1252 differs from ISO-8859-1.
  it('imports a Windows-1252 CSV with ; delimiters and accented names with the names intact', async () => {
    const bytes = iconv.encode(text(LATIN_ROWS, ';'), 'windows-1252');
    const out = await ctx.importer.importCsv(bytes, (f) => jobBody('insert', 'Leads', f, byPosition(...NAME_FIELDS)));
    expect(out.rows.map((r) => r.STATUS)).toEqual(['ADDED', 'ADDED', 'ADDED']);
    expect(await namesOf(out)).toEqual(LATIN_ROWS);
    expect(out.job.character_encoding).toBe('windows-1252');
  });

  it('detects Windows-1252 when the first accented name comes after the first 64 KB', async () => {
    const ascii = Array.from({ length: 2000 }, (_, i) => [`Lead ${i}`, 'Plain', `Company number ${i}`]);
    const bytes = iconv.encode(text([...ascii, ...LATIN_ROWS]), 'windows-1252');
    expect(bytes.length).toBeGreaterThan(64 * 1024);
    const out = await ctx.importer.importCsv(bytes, (f) => jobBody('insert', 'Leads', f, byPosition(...NAME_FIELDS)));
    expect(out.job.character_encoding).toBe('windows-1252');
    expect(out.rows.slice(-3).map((r) => [r.Last_Name, r.First_Name, r.Company])).toEqual(LATIN_ROWS);
    const last = await ctx.records.fields('Leads', out.ids.at(-3) as string, NAME_FIELDS);
    expect(NAME_FIELDS.map((f) => last[f])).toEqual(LATIN_ROWS[0]);
  });

  it('takes the character_encoding the request gives instead of guessing', async () => {
    const bytes = iconv.encode(text(JAPANESE_ROWS.slice(0, 1)), 'Shift_JIS');
    const out = await ctx.importer.importCsv(bytes, (f) => jobBody('insert', 'Leads', f, byPosition(...NAME_FIELDS), {}, { character_encoding: 'Shift_JIS' }));
    expect(out.job.character_encoding).toBe('Shift_JIS');
    expect(await namesOf(out)).toEqual(JAPANESE_ROWS.slice(0, 1));
  });

  it('reads the header of a BOM-prefixed file as field names when there are no field_mappings', async () => {
    const utf8 = withBom([0xef, 0xbb, 0xbf], Buffer.from(text(LATIN_ROWS.slice(0, 1)), 'utf8'));
    const utf16 = withBom([0xff, 0xfe], iconv.encode(text(LATIN_ROWS.slice(0, 1)), 'utf16le'));
    for (const bytes of [utf8, utf16]) {
      const out = await ctx.importer.importCsv(bytes, (f) => jobBody('insert', 'Leads', f, null));
      expect(out.header).toEqual([...NAME_FIELDS, 'STATUS', 'RECORD_ID', 'ERRORS']);
      expect(await namesOf(out)).toEqual(LATIN_ROWS.slice(0, 1));
    }
  });
});

describe('line ends and quoting', () => {
  it.each([
    ['CRLF', '\r\n'],
    ['LF', '\n'],
  ])('reads %s line ends, quoted cells with delimiters, doubled quotes and line breaks', async (_name, eol) => {
    const description = `First line${eol}Second line, with a comma and "quotes"`;
    const csv = [
      'Last_Name,Company,Description',
      `"Boyle, Jr.","Zylker ""Labs""","${description.replace(/"/g, '""')}"`,
      `Kent,Daily Planet,plain`,
      '',
    ].join(eol);
    const out = await ctx.importer.importCsv(csv, (f) => jobBody('insert', 'Leads', f, byPosition('Last_Name', 'Company', 'Description')));
    const echoed = `"${description.replace(/"/g, '""')}"`;
    expect(labelIds(out.csv)).toBe(lines(
      'Last_Name,Company,Description,STATUS,RECORD_ID,ERRORS',
      `"Boyle, Jr.","Zylker ""Labs""",${echoed},ADDED,<new1>,`,
      'Kent,Daily Planet,plain,ADDED,<new2>,',
    ));
    expect(await ctx.records.fields('Leads', out.ids[0] as string, ['Last_Name', 'Company', 'Description'])).toEqual({
      Last_Name: 'Boyle, Jr.', Company: 'Zylker "Labs"', Description: description,
    });
  });

  it('counts a quoted line break as part of its cell, not as a new row', async () => {
    const csv = 'Last_Name,Description\n"Multi","a\nb\nc"\nSingle,d\n';
    const out = await ctx.importer.importCsv(csv, (f) => jobBody('insert', 'Leads', f, byPosition('Last_Name', 'Description')));
    expect(fileCounts(out.job)).toMatchObject({ added_count: 2, total_count: 2 });
    expect((await ctx.records.record('Leads', out.ids[0] as string)).Description).toBe('a\nb\nc');
  });
});

// On PostgreSQL a row whose every value is its cell as read is copied into the COPY text from the
// file's bytes (store/postgres/copy-text.ts: LineCopier under the file's delimiter, writeLine for
// one COPY cannot take); any other row from its values. Both kinds must store the same thing,
// whatever the cells hold.
describe('rows written from the bytes of their line', () => {
  const FIELDS = ['Last_Name', 'First_Name', 'Company', 'Description', 'No_of_Employees', 'Lead_Source', 'Email'] as const;

  async function storedRows(out: ImportOutcome): Promise<Record<string, unknown>[]> {
    const got: Record<string, unknown>[] = [];
    for (const id of out.ids) got.push(await ctx.records.fields('Leads', id, FIELDS));
    return got;
  }

  it.each([
    [',', 'comma'],
    [';', 'semicolon'],
    ['|', 'pipe'],
    [':', 'colon'],
  ])('stores tabs, backslashes, accents and other delimiters in unquoted cells exactly (%s, %s)', async (d, name) => {
    const other = d === ',' ? ';' : ',';
    const email = (n: string) => `${n}-${name}@x.io`;
    const rows = [
      // Every value its cell as read.
      ['Tab\there', 'Back\\slash', `Acme${other} Inc`, `C${other}\\temp\\new\ttab`, '12', 'Web', email('a1')],
      ['Çelik', 'Zoë', 'Café\\Bar', '日本語の説明', '0', 'Advertisement', email('b2')],
      // Values that are not their cells: a trimmed email, a number written otherwise, a picklist
      // value in another case, a blank cell.
      ['Trim', 'Me', 'Acme', 'x\\y', '007', 'web', ` ${email('c3')} `],
      ['Blank', '', 'Acme', 'tab\tin', '5', 'Web', email('d4')],
      // A quoted record, whose cell holds the delimiter, among lines: written from its values.
      ['Quoted', 'Row', `"Acme${d} Quoted"`, 'q\\', '3', 'Web', email('e5')],
    ];
    const csv = [FIELDS.join(d), ...rows.map((r) => r.join(d))].join('\n') + '\n';
    const out = await ctx.importer.importCsv(csv, (f) => jobBody('insert', 'Leads', f, byPosition(...FIELDS)));
    expect(fileCounts(out.job)).toMatchObject({ added_count: 5, total_count: 5 });
    expect(await storedRows(out)).toEqual([
      { Last_Name: 'Tab\there', First_Name: 'Back\\slash', Company: `Acme${other} Inc`, Description: `C${other}\\temp\\new\ttab`, No_of_Employees: 12, Lead_Source: 'Web', Email: email('a1') },
      { Last_Name: 'Çelik', First_Name: 'Zoë', Company: 'Café\\Bar', Description: '日本語の説明', No_of_Employees: 0, Lead_Source: 'Advertisement', Email: email('b2') },
      { Last_Name: 'Trim', First_Name: 'Me', Company: 'Acme', Description: 'x\\y', No_of_Employees: 7, Lead_Source: 'Web', Email: email('c3') },
      { Last_Name: 'Blank', First_Name: null, Company: 'Acme', Description: 'tab\tin', No_of_Employees: 5, Lead_Source: 'Web', Email: email('d4') },
      { Last_Name: 'Quoted', First_Name: 'Row', Company: `Acme${d} Quoted`, Description: 'q\\', No_of_Employees: 3, Lead_Source: 'Web', Email: email('e5') },
    ]);
  });

  it('stores phone, website and number cells of rows sent as their lines as the values those cells are', async () => {
    // Past the three echoed columns, where a PostgreSQL insert checks cells on their bytes.
    const columns = ['Last_Name', 'Email', 'Description', 'Phone', 'Mobile', 'Website', 'Annual_Revenue', 'No_of_Employees'] as const;
    const rows = [
      // Each cell as it is stored: the row goes as its line.
      ['Plain', 'p1@x.io', 'Dvořák 日本 \\ ok', '+1 (555) 010-2030', '555 0101 x12', 'https://www.example.com:8080/a?b=c#d', '1234567.25', '42'],
      ['Small', 'p2@x.io', 'x', '5', '0', 'example.co.uk', '0.000001', '0'],
      // Cells whose values are written otherwise: the row goes from its values.
      ['Other', 'p3@x.io', 'y', ' 555 ', '555', 'example.com', '12.50', '007'],
      ['Refused', 'p4@x.io', 'z', 'call me', '555', 'example.com', '1', '1'],
    ];
    const csv = [columns.join(','), ...rows.map((r) => r.join(','))].join('\n') + '\n';
    const out = await ctx.importer.importCsv(csv, (f) => jobBody('insert', 'Leads', f, byPosition(...columns)));
    expect(fileCounts(out.job)).toMatchObject({ added_count: 3, skipped_count: 1, total_count: 4 });
    expect(labelIds(out.csv)).toBe(
      lines(
        'Last_Name,Email,Description,STATUS,RECORD_ID,ERRORS',
        'Plain,p1@x.io,Dvořák 日本 \\ ok,ADDED,<new1>,',
        'Small,p2@x.io,x,ADDED,<new2>,',
        'Other,p3@x.io,y,ADDED,<new3>,',
        'Refused,p4@x.io,z,SKIPPED,,INVALID_DATA-Phone',
      ),
    );
    const stored = [];
    for (const id of out.ids.slice(0, 3)) stored.push(await ctx.records.fields('Leads', id, columns));
    expect(stored).toEqual([
      { Last_Name: 'Plain', Email: 'p1@x.io', Description: 'Dvořák 日本 \\ ok', Phone: '+1 (555) 010-2030', Mobile: '555 0101 x12', Website: 'https://www.example.com:8080/a?b=c#d', Annual_Revenue: 1234567.25, No_of_Employees: 42 },
      { Last_Name: 'Small', Email: 'p2@x.io', Description: 'x', Phone: '5', Mobile: '0', Website: 'example.co.uk', Annual_Revenue: 0.000001, No_of_Employees: 0 },
      { Last_Name: 'Other', Email: 'p3@x.io', Description: 'y', Phone: '555', Mobile: '555', Website: 'example.com', Annual_Revenue: 12.5, No_of_Employees: 7 },
    ]);
  });

  it('refuses a cell holding a NUL character as INVALID_DATA of its field, and imports the other rows', async () => {
    // PostgreSQL cannot store U+0000 in text; SQLite could, and the backends must answer alike.
    const csv = 'Last_Name,Email,Company\nNul\u0000Name,n1@x.io,Acme\nFine,n2@x.io,Acme\nQuoted,"n3\u0000@x.io",Acme\n';
    const out = await ctx.importer.importCsv(csv, (f) => jobBody('insert', 'Leads', f, byPosition('Last_Name', 'Email', 'Company')));
    expect(out.job.status).toBe('COMPLETED');
    expect(fileCounts(out.job)).toMatchObject({ added_count: 1, skipped_count: 2, total_count: 3 });
    expect(labelIds(out.csv)).toBe(
      lines(
        'Last_Name,Email,Company,STATUS,RECORD_ID,ERRORS',
        'Nul\u0000Name,n1@x.io,Acme,SKIPPED,,INVALID_DATA-Last_Name',
        'Fine,n2@x.io,Acme,ADDED,<new1>,',
        'Quoted,n3\u0000@x.io,Acme,SKIPPED,,INVALID_DATA-Email',
      ),
    );
  });

  it('finds a record inserted from its line by its unique field, ignoring case', async () => {
    const first = await ctx.importer.importCsv('Last_Name,Email\nKent,Clark@Daily.io\n', (f) => jobBody('insert', 'Leads', f, byPosition('Last_Name', 'Email')));
    expect(fileCounts(first.job)).toMatchObject({ added_count: 1 });
    const again = await ctx.importer.importCsv('Last_Name,Email\nKent2,clark@daily.IO\n', (f) => jobBody('insert', 'Leads', f, byPosition('Last_Name', 'Email')));
    expect(labelIds(again.csv)).toBe(lines('Last_Name,Email,STATUS,RECORD_ID,ERRORS', 'Kent2,clark@daily.IO,SKIPPED,,DUPLICATE_DATA-Email'));
  });
});
