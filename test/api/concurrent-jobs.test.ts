/**
 * Two jobs writing the same module at once: a row's unique value that another job takes between
 * this job's lookup and its commit must come out as the rules say (DUPLICATE_DATA, or a match),
 * never as a failed job.
 */
import { describe, expect, it } from 'vitest';
import type { BatchCommit } from '../../src/ports/store.js';
import { byPosition, csvText, fileCounts, jobBody } from '../support/import-run.js';
import { useImportServer } from '../support/import-server.js';

const ctx = useImportServer({ worker: { concurrency: 2 } });
const HEADER = ['Last_Name', 'Email', 'Company'];

/**
 * Holds the next commit of rows until `meanwhile` (another job, run to its end) has finished: that
 * job's records then land between the held job's lookups and its commit, as they may in production.
 */
function holdNextCommit(meanwhile: () => Promise<unknown>): { done: Promise<void> } {
  const store = ctx.server.bw.store;
  const original = store.commitBatch.bind(store);
  let release!: () => void;
  const done = new Promise<void>((r) => (release = r));
  store.commitBatch = async (batch: BatchCommit) => {
    // The job's first commit holds only the result header: the rows' batch comes after its lookups.
    if (batch.progress.rowsDone === 0) return original(batch);
    store.commitBatch = original;
    await meanwhile();
    release();
    return original(batch);
  };
  return { done };
}

describe('a unique value taken by another job while a batch is being written', () => {
  it('makes an upsert row update the record the other job just added', async () => {
    const upsertFile = await ctx.importer.upload(csvText(HEADER, [['Ada', 'ada@race.example', 'Upsert Co'], ['Bob', 'bob@race.example', 'Upsert Co']]));
    let raced: Awaited<ReturnType<typeof ctx.importer.importCsv>> | null = null;
    const held = holdNextCommit(async () => {
      raced = await ctx.importer.importCsv(csvText(HEADER, [['Ada First', 'ADA@race.example', 'Insert Co']]), (f) => jobBody('insert', 'Leads', f, byPosition(...HEADER)));
    });
    const out = await ctx.importer.run(jobBody('upsert', 'Leads', upsertFile, byPosition(...HEADER), { find_by: 'Email' }));
    await held.done;
    const adaId = (raced as unknown as { ids: string[] }).ids[0] ?? '';
    expect(adaId).toMatch(/^\d+$/);
    expect(out.rows.map((r) => [r.Last_Name, r.STATUS, r.ERRORS])).toEqual([['Ada', 'UPDATED', ''], ['Bob', 'ADDED', '']]);
    expect(out.ids[0]).toBe(adaId);
    expect(fileCounts(out.job)).toMatchObject({ added_count: 1, updated_count: 1, skipped_count: 0, total_count: 2 });
    expect(await ctx.records.fields('Leads', adaId, ['Last_Name', 'Company'])).toEqual({ Last_Name: 'Ada', Company: 'Upsert Co' });
  });

  it('makes an insert row a DUPLICATE_DATA of the record the other job just added', async () => {
    const insertFile = await ctx.importer.upload(csvText(HEADER, [['Cy', 'cy@race.example', 'Mine'], ['Di', 'di@race.example', 'Mine']]));
    const held = holdNextCommit(() =>
      ctx.importer.importCsv(csvText(HEADER, [['Di First', 'di@race.example', 'Theirs']]), (f) => jobBody('insert', 'Leads', f, byPosition(...HEADER))),
    );
    const out = await ctx.importer.run(jobBody('insert', 'Leads', insertFile, byPosition(...HEADER)));
    await held.done;
    expect(out.rows.map((r) => [r.Last_Name, r.STATUS, r.ERRORS])).toEqual([['Cy', 'ADDED', ''], ['Di', 'SKIPPED', 'DUPLICATE_DATA-Email']]);
    expect(fileCounts(out.job)).toMatchObject({ added_count: 1, updated_count: 0, skipped_count: 1, total_count: 2 });
  });
});
