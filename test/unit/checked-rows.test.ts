import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ModuleDef } from '../../src/domain/metadata.js';
import { BatchProcessor, type BatchResult } from '../../src/ingest/batch-processor.js';
import { readCsvBatches, type CsvBatch } from '../../src/ingest/csv-source.js';
import { resultLines } from '../../src/ingest/result-file.js';
import type { FieldSpec } from '../../src/domain/standard-modules.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

// Rows whose cells pass their checks on bytes are read only for the cells the batch looks at and
// sent as their lines (BatchProcessor.cellChecks). Whatever a file holds, that must decide exactly
// what reading every cell as a string decides: each case reads a file both ways and compares.

const FIELDS: FieldSpec[] = [
  { apiName: 'First_Name', dataType: 'text', length: 40 },
  { apiName: 'Last_Name', dataType: 'text', length: 80, mandatory: true, isNameField: true },
  { apiName: 'Email', dataType: 'email', length: 100, unique: true },
  { apiName: 'Phone', dataType: 'phone', length: 30, mandatory: true },
  { apiName: 'Website', dataType: 'website', length: 255 },
  { apiName: 'Employees', dataType: 'integer' },
  { apiName: 'Amount', dataType: 'currency' },
  { apiName: 'Met_On', dataType: 'date' },
  { apiName: 'Source', dataType: 'picklist', picklistValues: ['Web', 'Partner'] },
  { apiName: 'Notes', dataType: 'textarea', length: 12 },
];
const HEADER = FIELDS.map((f) => f.apiName);

let dir: string;
let stores: SqliteStore[];

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'bulkwright-checked-'));
  stores = [];
});

afterEach(async () => {
  for (const s of stores) await s.close();
  await rm(dir, { recursive: true, force: true });
});

async function processorFor(fields: readonly FieldSpec[], trustUniqueIndexes: boolean): Promise<BatchProcessor> {
  const store = new SqliteStore(path.join(dir, `${stores.length}.db`));
  stores.push(store);
  const [orgId, userId] = (await store.allocateIds(2)) as [string, string];
  await store.createOrg({
    org: { id: orgId, name: 'Checked', timeZone: 'UTC' },
    admin: { id: userId, orgId, name: 'Admin', email: 'admin@example.com', role: 'admin', active: true },
    modules: [{ apiName: 'Leads', singularLabel: 'Lead', pluralLabel: 'Leads', fields: [...fields] }],
  });
  const modules = await store.listModules(orgId);
  const module = modules.find((m) => m.apiName === 'Leads') as ModuleDef;
  const actor = await store.getUser(orgId, userId);
  if (!actor) throw new Error('no admin');
  return new BatchProcessor(
    {
      operation: 'insert', module, findBy: null, ignoreEmpty: false, timeZone: 'UTC', maxRows: 1000, columnCount: fields.length,
      mappings: fields.map((f, index) => ({ apiName: f.apiName, index, format: null, findBy: null, module: null, defaultValue: null })),
      actor, users: await store.listUsers(orgId), moduleByName: (n) => modules.find((m) => m.apiName === n),
      trustUniqueIndexes, recordLines: true, delimiter: 0x2c, echoedColumns: [0, 1, 2],
    },
    store,
  );
}

/** What a batch decided, without the record ids (each run allocates its own). */
function decisions(batch: CsvBatch, r: BatchResult): unknown {
  const raw = batch.recordBytes;
  const noIds = r.outcomes.map((o) => ({ ...o, recordId: o.recordId === null ? null : 'id' }));
  return {
    result: resultLines(batch, noIds, [0, 1, 2], raw && { bytes: raw.bytes, starts: raw.starts, ends: raw.ends, delimiter: 0x2c }).toString('utf8'),
    outcomes: r.outcomes.map((o) => ({ status: o.status, errors: o.errors, id: o.recordId !== null })),
    columns: r.inserts.columns,
    values: r.inserts.values,
    lines: r.inserts.lines ? { starts: [...r.inserts.lines.starts], ends: [...r.inserts.lines.ends] } : null,
    picklist: [...r.newPicklistValues],
  };
}

/** Reads `csv` in 13-byte chunks, 7 rows a batch, and processes it; `checked` counts rows read on their bytes. */
async function run(csv: Buffer, fields: readonly FieldSpec[], useChecks: boolean, trust: boolean): Promise<{ decided: unknown[]; checked: number }> {
  const processor = await processorFor(fields, trust);
  const chunks: Buffer[] = [];
  for (let at = 0; at < csv.length; at += 13) chunks.push(csv.subarray(at, at + 13));
  const options = { encoding: 'UTF-8', delimiter: ',', recordBytes: true, cellChecks: useChecks ? processor.cellChecks : undefined };
  const decided: unknown[] = [];
  let checked = 0;
  let row = 1;
  for await (const batch of readCsvBatches(Readable.from(chunks), options, 7, 1)) {
    checked += batch.recordBytes?.checked.filter(Boolean).length ?? 0;
    // The batch before is taken as committed only every other batch, as a pipelined job sees it.
    decided.push(decisions(batch, await processor.process(batch, row, '2026-01-01T00:00:00+00:00', Math.max(0, decided.length - (decided.length % 2)))));
    row += batch.length;
  }
  return { decided, checked };
}

function csvOf(rows: readonly string[]): Buffer {
  return Buffer.concat([Buffer.from(`${HEADER.join(',')}\r\n`), ...rows.map((r) => Buffer.from(`${r}\r\n`))]);
}

const FIRST = ['José', 'Zoë', 'Łukasz', 'Ann', 'Bo'];
const good = (i: number): string =>
  [FIRST[i % 5], `Müller ${i}`, `lead${i}@example.com`, `+1 555 ${1000 + i}`, `https://www.example${i % 7}.com/p?q=${i}`, String(i * 37),
    i % 3 === 0 ? '12.5' : String(i), `2024-0${1 + (i % 9)}-1${i % 10}`, i % 2 === 0 ? 'Web' : 'Partner', i % 4 === 0 ? 'Dvořák 日本' : `Lead ${i}`].join(',');

/** One row of each kind that must not be sent as it is checked, between good ones. */
const ODD_ROWS: readonly (string | Buffer)[] = [
  'Ann,Low,low@example.com,+1 555 1,example.com,1,1,2024-01-01,web,x',
  'Ann,New,new@example.com,+1 555 1,example.com,1,1,2024-01-01,Trade Show,x',
  'Ann,Blank,blank@example.com,,example.com,1,1,2024-01-01,Web,x',
  'Ann,Site,site@example.com,+1 555 1,not a site,1,1,2024-01-01,Web,x',
  'Ann,Dup,lead3@example.com,+1 555 1,example.com,1,1,2024-01-01,Web,x',
  'Ann,Space,space@example.com, +1 555 1,example.com,1,1,2024-01-01,Web,x',
  'Ann,Zeros,zeros@example.com,+1 555 1,example.com,007,1.50,2024-01-01,Web,x',
  'Ann,Long,long@example.com,+1 555 1,example.com,1,1,2024-01-01,Web,more than twelve',
  'Ann,Date,date@example.com,+1 555 1,example.com,1,1,2023-02-29,Web,x',
  'Ann,Trailing,trailing@example.com,+1 555 1,example.com,1,1,2024-01-01,Web,x,,',
  'Ann,Short,short@example.com,+1 555 1',
  'Ann,Quoted,quoted@example.com,+1 555 1,example.com,1,1,2024-01-01,Web,"a, b"',
  ',NoFirst,nofirst@example.com,+1 555 1,example.com,1,1,2024-01-01,Web,x',
  'Ann,,noname@example.com,+1 555 1,example.com,1,1,2024-01-01,Web,x',
  Buffer.concat([Buffer.from('Ann,Bytes,bytes@example.com,+1 555 1,example.com,1,1,2024-01-01,Web,a'), Buffer.from([0xff]), Buffer.from('b')]),
  Buffer.concat([Buffer.from('Ann,M'), Buffer.from([0xc3]), Buffer.from(',mbytes@example.com,+1 555 1,example.com,1,1,2024-01-01,Web,x')]),
  'Ann,Tab,tab@example.com,+1 555 1,example.com,1,1,2024-01-01,Web,a\tb',
  'Ann,Slash,slash@example.com,+1 555 1,example.com,1,1,2024-01-01,Web,a\\b',
];

describe('rows read on their bytes', () => {
  for (const trust of [false, true]) {
    it(`decide what rows read as strings decide${trust ? ', the unique indexes trusted' : ''}`, async () => {
      const rows: (string | Buffer)[] = [];
      for (let i = 0; i < 60; i++) {
        rows.push(good(i));
        if (i < ODD_ROWS.length) rows.push(ODD_ROWS[i] as string | Buffer);
      }
      const csv = Buffer.concat([Buffer.from(`${HEADER.join(',')}\r\n`), ...rows.map((r) => Buffer.concat([Buffer.from(r), Buffer.from('\r\n')]))]);
      const strings = await run(csv, FIELDS, false, trust);
      const bytes = await run(csv, FIELDS, true, trust);
      expect(strings.checked).toBe(0);
      expect(bytes.decided).toEqual(strings.decided);
      // The good rows and the odd rows whose checked cells pass: a duplicate Email, a tab, a
      // backslash. The others are read whole: a picklist value spelled otherwise or new fails its
      // check, as a blank mandatory cell (Last_Name, Phone) or one with a space to trim (Phone)
      // does, and a blank First_Name too, since the echoed cells are written from the record's
      // bytes and not read.
      expect(bytes.checked).toBe(60 + 3);
    });
  }

  it('decide what rows read as strings decide where a mandatory column has no check, and one with a check is no name', async () => {
    const fields: FieldSpec[] = FIELDS.map((f) =>
      f.apiName === 'Met_On' ? { apiName: 'Met_At', dataType: 'datetime', mandatory: true } : f.apiName === 'Last_Name' ? { ...f, isNameField: false } : f,
    );
    const header = fields.map((f) => f.apiName).join(',');
    const rows = Array.from({ length: 12 }, (_, i) => {
      const cells = good(i).split(',');
      cells[7] = i % 3 === 0 ? '' : `2024-01-0${1 + (i % 9)}T10:00:00Z`;
      if (i % 4 === 1) cells[1] = '';
      return cells.join(',');
    });
    const csv = Buffer.from(`${header}\r\n${rows.join('\r\n')}\r\n`);
    const bytes = await run(csv, fields, true, true);
    expect(bytes.decided).toEqual((await run(csv, fields, false, true)).decided);
    // A blank Last_Name fails its check; the date-time is read, blank or not.
    expect(bytes.checked).toBe(12 - 3);
    expect(JSON.stringify(bytes.decided)).toContain('MANDATORY_NOT_FOUND');
  });

  it('are read whole where a boolean column keeps every row from its line', async () => {
    const fields: FieldSpec[] = [...FIELDS.slice(0, 3), { apiName: 'Active', dataType: 'boolean' }, FIELDS[9] as FieldSpec];
    const csv = Buffer.from(`First_Name,Last_Name,Email,Active,Notes\nA,B,b@example.com,true,x\n`);
    expect((await processorFor(fields, false)).cellChecks).toBeUndefined();
    expect((await run(csv, fields, true, false)).checked).toBe(0);
  });

  it('take the CSV as the bench writes it', async () => {
    const csv = csvOf(Array.from({ length: 30 }, (_, i) => good(i)));
    const bytes = await run(csv, FIELDS, true, true);
    expect(bytes.checked).toBe(30);
    expect(bytes.decided).toEqual((await run(csv, FIELDS, false, true)).decided);
  });

  it('read no string for a picklist value the picklist spells as the cell does, nor for a mandatory name that passes its check', async () => {
    const processor = await processorFor(FIELDS, true);
    const options = { encoding: 'UTF-8', delimiter: ',', recordBytes: true, cellChecks: processor.cellChecks };
    const source = HEADER.indexOf('Source');
    for await (const batch of readCsvBatches(Readable.from([csvOf([good(0), good(1)])]), options, 7, 1)) {
      expect(batch.map((row) => row[source])).toEqual(['', '']);
      // The unique Email is still read; the mandatory name field Last_Name passes its check instead.
      expect(batch.map((row) => row[HEADER.indexOf('Email')])).toEqual(['lead0@example.com', 'lead1@example.com']);
      expect(batch.map((row) => row[HEADER.indexOf('Last_Name')])).toEqual(['', '']);
    }
  });
});
