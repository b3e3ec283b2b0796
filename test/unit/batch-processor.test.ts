import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Operation } from '../../src/domain/job.js';
import { BatchProcessor } from '../../src/ingest/batch-processor.js';
import type { CsvBatch } from '../../src/ingest/csv-source.js';
import { recordBytesOf } from './record-bytes.js';
import { UniqueConflictError, type RecordRows } from '../../src/ports/store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { aBatch, aJob, seedOrg, type Seeded } from '../store/store-builders.js';

// The processor prepares rows straight into the batch's columns and lends them to the store while
// every row written is the batch's next one; these cases leave that order at each possible point.

let dir: string;
let store: SqliteStore;
let org: Seeded;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'bulkwright-processor-'));
  store = new SqliteStore(path.join(dir, 'bulkwright.db'));
  org = await seedOrg(store);
});

afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

const HEADER = ['Last_Name', 'Email', 'Score'];

async function processorFor(
  operation: Operation,
  recordLines = false,
  mapped: readonly (readonly [string, number])[] = HEADER.map((f, i) => [f, i] as const),
  trustUniqueIndexes = false,
): Promise<BatchProcessor> {
  const modules = await store.listModules(org.orgId);
  const module = modules.find((m) => m.id === org.moduleId);
  const actor = await store.getUser(org.orgId, org.userId);
  if (!module || !actor) throw new Error('seed missing');
  return new BatchProcessor(
    {
      operation, module, findBy: operation === 'insert' ? null : 'Email', ignoreEmpty: false, timeZone: 'UTC', maxRows: 1000,
      mappings: mapped.map(([apiName, index]) => ({ apiName, index, format: null, findBy: apiName === 'Referred_By' ? 'id' : null, module: null, defaultValue: null })),
      columnCount: HEADER.length, actor, users: await store.listUsers(org.orgId), moduleByName: (n) => modules.find((m) => m.apiName === n),
      trustUniqueIndexes, recordLines, delimiter: 0x2c,
    },
    store,
  );
}

/** The written rows as objects of their mapped columns, in the order the store gets them. */
function written(rows: RecordRows): Record<string, unknown>[] {
  return rows.ids.map((_, r) => Object.fromEntries(rows.columns.map((c, i) => [c, rows.values[i]?.[r]])));
}

/** Commits a batch's writes under a job's lease, as the job runner does, so that later lookups see them. */
async function commit(result: { inserts: RecordRows; updates: RecordRows }): Promise<void> {
  const [jobId] = (await store.allocateIds(1)) as [string];
  await store.createJob(aJob(org, jobId));
  await store.claimJob('worker-a', 60_000, new Date());
  const batch = await aBatch(store, org, jobId, 'worker-a', 0);
  await store.commitBatch({ ...batch, inserts: result.inserts, updates: result.updates });
}

describe('BatchProcessor columns', () => {
  it('writes every row of an all-insert batch, in order', async () => {
    const p = await processorFor('insert');
    const r = await p.process([['A', 'a@x.io', '1'], ['B', 'b@x.io', '2']], 1, '2026-01-01T00:00:00+00:00');
    expect(r.outcomes.map((o) => o.status)).toEqual(['ADDED', 'ADDED']);
    expect(written(r.inserts)).toEqual([
      { Last_Name: 'A', Email: 'a@x.io', Score: 1 },
      { Last_Name: 'B', Email: 'b@x.io', Score: 2 },
    ]);
    expect(r.updates.ids).toEqual([]);
    expect(r.updates.values.every((c) => c.length === 0)).toBe(true);
  });

  it('keeps the rows written before a refused one when it stops lending its columns', async () => {
    const p = await processorFor('insert');
    const r = await p.process([['A', 'a@x.io', '1'], ['B', 'b@x.io', '2'], ['C', 'c@x.io', 'x'], ['D', 'd@x.io', '4']], 1, '2026-01-01T00:00:00+00:00');
    expect(r.outcomes.map((o) => o.status)).toEqual(['ADDED', 'ADDED', 'SKIPPED', 'ADDED']);
    expect(written(r.inserts).map((w) => w.Last_Name)).toEqual(['A', 'B', 'D']);
    expect(written(r.inserts)[1]).toEqual({ Last_Name: 'B', Email: 'b@x.io', Score: 2 });
  });

  it('leaves out refused rows at the start, in the middle and at the end', async () => {
    const p = await processorFor('insert');
    const r = await p.process(
      [['', 'z@x.io', '0'], ['A', 'a@x.io', '1'], ['B', 'b@x.io', 'not a number'], ['C', 'c@x.io', '3'], ['D', 'a@x.io', '4']],
      1, '2026-01-01T00:00:00+00:00',
    );
    expect(r.outcomes.map((o) => o.status)).toEqual(['SKIPPED', 'ADDED', 'SKIPPED', 'ADDED', 'SKIPPED']);
    expect(written(r.inserts)).toEqual([
      { Last_Name: 'A', Email: 'a@x.io', Score: 1 },
      { Last_Name: 'C', Email: 'c@x.io', Score: 3 },
    ]);
    expect(r.inserts.ids).toEqual([r.outcomes[1]?.recordId, r.outcomes[3]?.recordId]);
  });

  it('splits an upsert batch into updates and inserts, and folds the update of a record it inserts into the insert', async () => {
    const seed = await (await processorFor('insert')).process([['Old', 'old@x.io', '1']], 1, '2026-01-01T00:00:00+00:00');
    await commit(seed);
    const storedId = seed.outcomes[0]?.recordId;
    const p = await processorFor('upsert');
    const r = await p.process(
      [['Old2', 'old@x.io', '2'], ['New', 'new@x.io', '3'], ['New2', 'NEW@x.io', '4'], ['Other', 'other@x.io', '5']],
      1, '2026-01-02T00:00:00+00:00',
    );
    expect(r.outcomes.map((o) => o.status)).toEqual(['UPDATED', 'ADDED', 'UPDATED', 'ADDED']);
    expect(r.updates.ids).toEqual([storedId]);
    expect(written(r.updates)).toEqual([{ Last_Name: 'Old2', Email: 'old@x.io', Score: 2 }]);
    expect(written(r.inserts)).toEqual([
      { Last_Name: 'New2', Email: 'NEW@x.io', Score: 4 },
      { Last_Name: 'Other', Email: 'other@x.io', Score: 5 },
    ]);
  });

  it('lends its columns to the updates of an all-update batch', async () => {
    const seed = await (await processorFor('insert')).process([['A', 'a@x.io', '1'], ['B', 'b@x.io', '2']], 1, '2026-01-01T00:00:00+00:00');
    await commit(seed);
    const p = await processorFor('upsert');
    const r = await p.process([['A2', 'a@x.io', '10'], ['B2', 'b@x.io', '20']], 1, '2026-01-02T00:00:00+00:00');
    expect(r.outcomes.map((o) => o.status)).toEqual(['UPDATED', 'UPDATED']);
    expect(written(r.updates)).toEqual([
      { Last_Name: 'A2', Email: 'a@x.io', Score: 10 },
      { Last_Name: 'B2', Email: 'b@x.io', Score: 20 },
    ]);
    expect(r.inserts.ids).toEqual([]);
    expect(r.inserts.values.every((c) => c.length === 0)).toBe(true);
  });

  it('reserves ids only for the rows that may insert: none for an upsert onto stored records', async () => {
    const seed = await (await processorFor('insert')).process([['A', 'a@x.io', '1'], ['B', 'b@x.io', '2']], 1, '2026-01-01T00:00:00+00:00');
    await commit(seed);
    const reserved: number[] = [];
    const allocateIds = store.allocateIds.bind(store);
    store.allocateIds = async (count: number) => {
      reserved.push(count);
      return allocateIds(count);
    };
    const p = await processorFor('upsert');
    await p.process([['A2', 'a@x.io', '10'], ['B2', 'B@x.io', '20']], 1, '2026-01-02T00:00:00+00:00');
    const mixed = await p.process([['A3', 'a@x.io', '30'], ['C', 'c@x.io', '3'], ['C2', 'c@x.io', '4'], ['D', 'd@x.io', 'not a number']], 3, '2026-01-02T00:00:00+00:00');
    expect(mixed.outcomes.map((o) => o.status)).toEqual(['UPDATED', 'ADDED', 'UPDATED', 'SKIPPED']);
    // The second C row updates the record the first inserts, but whether it would was not known
    // before the batch was decided: an id was reserved for it. A row refused by its cells gets none.
    expect(reserved).toEqual([0, 2]);
    expect(mixed.inserts.ids).toEqual([mixed.outcomes[1]?.recordId]);
  });
});

describe('BatchProcessor of an insert that trusts the unique indexes', () => {
  const NOW = '2026-01-01T00:00:00+00:00';
  const trusting = (): Promise<BatchProcessor> => processorFor('insert', false, undefined, true);
  const errorsOf = (r: { outcomes: readonly { errors: readonly { code: string; field?: string | null }[] }[] }): string[] =>
    r.outcomes.map((o) => o.errors.map((e) => `${e.code}-${e.field}`).join(':'));

  it('leaves the taken values of rows it writes to the store, whose index refuses the batch', async () => {
    await commit(await (await processorFor('insert')).process([['Stored', 'stored@x.io', '1']], 1, NOW));
    const p = await trusting();
    const r = await p.process([['A', 'a@x.io', '1'], ['Again', 'A@x.io', '2']], 1, NOW);
    expect(r.outcomes.map((o) => o.status)).toEqual(['ADDED', 'ADDED']);
    await expect(commit(r)).rejects.toBeInstanceOf(UniqueConflictError);
    const taken = await p.process([['Taken', 'stored@x.io', '3']], 3, NOW);
    expect(taken.outcomes.map((o) => o.status)).toEqual(['ADDED']);
    await expect(commit(taken)).rejects.toBeInstanceOf(UniqueConflictError);
  });

  it('reports the DUPLICATE_DATA of a skipped row, which the store never sees: against its batch, a batch in flight, or a stored record', async () => {
    await commit(await (await processorFor('insert')).process([['Stored', 'stored@x.io', '1']], 1, NOW));
    const p = await trusting();
    const first = await p.process([
      ['A', 'a@x.io', '1'],
      ['Same batch', 'A@X.io', 'x'],
      ['Stored', 'STORED@x.io', 'x'],
      ['Free', 'free@x.io', 'x'],
      ['', 'stored@x.io', '2'],
    ], 1, NOW);
    expect(first.outcomes.map((o) => o.status)).toEqual(['ADDED', 'SKIPPED', 'SKIPPED', 'SKIPPED', 'SKIPPED']);
    expect(errorsOf(first)).toEqual([
      '',
      'INVALID_DATA-Score:DUPLICATE_DATA-Email',
      'INVALID_DATA-Score:DUPLICATE_DATA-Email',
      'INVALID_DATA-Score',
      'MANDATORY_NOT_FOUND-Last_Name:DUPLICATE_DATA-Email',
    ]);
    // The first batch is still in flight (none committed): its rows hold their values.
    const second = await p.process([['In flight', 'a@x.io', 'x'], ['Skipped before', 'free@x.io', 'x']], 6, NOW, 0);
    expect(errorsOf(second)).toEqual(['INVALID_DATA-Score:DUPLICATE_DATA-Email', 'INVALID_DATA-Score']);
  });

  it('sees a value a row writes after a skipped row has asked, for the skipped rows after it', async () => {
    const p = await trusting();
    const r = await p.process([
      ['A', 'a@x.io', '1'],
      ['Asks first', 'A@x.io', 'x'],
      ['B', 'b@x.io', '2'],
      ['Asks again', 'B@x.io', 'x'],
      ['Not yet written', 'c@x.io', 'x'],
      ['C', 'c@x.io', '3'],
    ], 1, NOW);
    expect(r.outcomes.map((o) => o.status)).toEqual(['ADDED', 'SKIPPED', 'ADDED', 'SKIPPED', 'SKIPPED', 'ADDED']);
    expect(errorsOf(r)).toEqual(['', 'INVALID_DATA-Score:DUPLICATE_DATA-Email', '', 'INVALID_DATA-Score:DUPLICATE_DATA-Email', 'INVALID_DATA-Score', '']);
  });
});

describe('BatchProcessor rows written as their CSV lines (RecordRows.lines)', () => {
  /** A batch as readCsvBatches gives it with its records' bytes; rows in `quoted` had quotes (no bytes). */
  function withBytes(rows: string[][], quoted: readonly number[] = []): CsvBatch {
    return Object.assign(rows, { recordBytes: { ...recordBytesOf(rows, ',', quoted), release: () => undefined, giveBack: () => undefined } });
  }

  const lineOf = (rows: RecordRows, r: number): string | null => {
    const l = rows.lines;
    if (!l || (l.starts[r] as number) < 0) return null;
    return Buffer.from(l.bytes.subarray(l.starts[r], l.ends[r])).toString('utf8');
  };

  it('marks an inserted row whose every value is its cell, and sends none of its values with it', async () => {
    const p = await processorFor('insert', true);
    const rows = [
      ['Zoë', 'z@x.io', '7'],
      ['Trim', ' t@x.io', '1'],
      ['Zeros', 'o@x.io', '007'],
      ['Blank', 'b@x.io', ''],
      ['Quoted', 'q@x.io', '2'],
      ['Bad', 'bad@x.io', 'x'],
      ['Last', 'l@x.io', '-3'],
    ];
    const r = await p.process(withBytes(rows, [4]), 1, '2026-01-01T00:00:00+00:00');
    expect(r.outcomes.map((o) => o.status)).toEqual(['ADDED', 'ADDED', 'ADDED', 'ADDED', 'ADDED', 'SKIPPED', 'ADDED']);
    expect(r.inserts.ids.map((_, i) => lineOf(r.inserts, i))).toEqual(['Zoë,z@x.io,7', null, null, null, null, 'Last,l@x.io,-3']);
    expect(written(r.inserts)).toEqual([
      { Last_Name: undefined, Email: undefined, Score: undefined },
      { Last_Name: 'Trim', Email: 't@x.io', Score: 1 },
      { Last_Name: 'Zeros', Email: 'o@x.io', Score: 7 },
      { Last_Name: 'Blank', Email: 'b@x.io', Score: null },
      { Last_Name: 'Quoted', Email: 'q@x.io', Score: 2 },
      { Last_Name: undefined, Email: undefined, Score: undefined },
    ]);
  });

  it('sends a column no row gives a value as an empty one: every row its line', async () => {
    const p = await processorFor('insert', true);
    const r = await p.process(withBytes([['Ann', 'a@x.io', '1'], ['Bo', 'b@x.io', '2']]), 1, '2026-01-01T00:00:00+00:00');
    expect(r.inserts.columns).toEqual(['Last_Name', 'Email', 'Score']);
    expect(r.inserts.values).toEqual([[], [], []]);
    const mixed = await p.process(withBytes([['Cy', 'c@x.io', '3'], ['Di', 'd@x.io', '04']]), 3, '2026-01-01T00:00:00+00:00');
    expect(mixed.inserts.values).toEqual([[undefined, 'Di'], [undefined, 'd@x.io'], [undefined, 4]]);
    expect(r.inserts.ids.map((_, i) => lineOf(r.inserts, i))).toEqual(['Ann,a@x.io,1', 'Bo,b@x.io,2']);
  });

  it('sends no lines unless the store takes them, the job inserts, and each column is mapped in order', async () => {
    const rows = () => withBytes([['A', 'a@x.io', '1']]);
    expect((await (await processorFor('insert', false)).process(rows(), 1, '2026-01-01T00:00:00+00:00')).inserts.lines).toBeUndefined();
    expect((await (await processorFor('upsert', true)).process(rows(), 1, '2026-01-01T00:00:00+00:00')).inserts.lines).toBeUndefined();
    expect((await (await processorFor('insert', true)).process([['A', 'a@x.io', '1']], 1, '2026-01-01T00:00:00+00:00')).inserts.lines).toBeUndefined();
    const linesWith = async (mapped: [string, number][]) =>
      (await (await processorFor('insert', true, mapped)).process(rows(), 1, '2026-01-01T00:00:00+00:00')).inserts.lines;
    expect(await linesWith([['Last_Name', 0], ['Email', 1], ['Score', 2]])).toBeDefined();
    // A column left out, columns in another order, a lookup (its value is the id found, not the cell).
    expect(await linesWith([['Last_Name', 0], ['Email', 1]])).toBeUndefined();
    expect(await linesWith([['Email', 1], ['Last_Name', 0], ['Score', 2]])).toBeUndefined();
    expect(await linesWith([['Last_Name', 0], ['Email', 1], ['Referred_By', 2]])).toBeUndefined();
    // No row written as its line: none sent.
    const blank = await (await processorFor('insert', true)).process(withBytes([['A', 'a@x.io', '']]), 1, '2026-01-01T00:00:00+00:00');
    expect(blank.inserts.lines).toBeUndefined();
  });
});
