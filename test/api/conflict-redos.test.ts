/**
 * How often a job reruns a resource from its checkpoint when the store refuses a batch for a taken
 * unique value (UniqueConflictError): as often as it moves on, and only a few times in a row at
 * one checkpoint. The refusals are injected in front of the real store.
 */
import { expect, it } from 'vitest';
import { UniqueConflictError, type BatchCommit } from '../../src/ports/store.js';
import { byPosition, csvText, fileCounts, jobBody } from '../support/import-run.js';
import { useImportServer } from '../support/import-server.js';

const ctx = useImportServer({ worker: { batchSize: 500 } });
const HEADER = ['Last_Name', 'Email'];

/** Runs `run` with every commit going through `intercept`, which may refuse it or pass it on to the store's own. */
async function interceptingCommits<T>(
  intercept: (batch: BatchCommit, commit: (b: BatchCommit) => Promise<void>) => Promise<void>,
  run: () => Promise<T>,
): Promise<T> {
  const { store } = ctx.server.bw;
  const { commitBatch } = store;
  store.commitBatch = (batch: BatchCommit) => intercept(batch, (b) => commitBatch.call(store, b));
  try {
    return await run();
  } finally {
    store.commitBatch = commitBatch;
  }
}

function withRefusals<T>(refuse: (batch: BatchCommit) => boolean, run: () => Promise<T>): Promise<T> {
  return interceptingCommits(async (batch, commit) => {
    if (refuse(batch)) throw new UniqueConflictError('injected');
    return commit(batch);
  }, run);
}

it('finishes a job whose every batch is refused once, each rerun moving on', async () => {
  const refused = new Set<number>();
  const rows = Array.from({ length: 3500 }, (_, i) => [`Row ${i}`, `redo-${i}@moving.example`]);
  const before = await ctx.server.countRecords('Leads');
  const out = await withRefusals(
    (batch) => {
      if (batch.progress.rowsDone === 0 || refused.has(batch.progress.rowsDone)) return false;
      refused.add(batch.progress.rowsDone);
      return true;
    },
    () => ctx.importer.importCsv(csvText(HEADER, rows), (f) => jobBody('insert', 'Leads', f, byPosition(...HEADER))),
  );
  expect(refused.size).toBe(7);
  expect(out.rows.map((r) => r.Last_Name)).toEqual(rows.map((r) => r[0]));
  expect(new Set(out.rows.map((r) => r.STATUS))).toEqual(new Set(['ADDED']));
  expect(fileCounts(out.job)).toMatchObject({ added_count: 3500, skipped_count: 0, total_count: 3500 });
  expect(await ctx.server.countRecords('Leads')).toBe(before + 3500);
});

it('commits nothing after a batch refused while the next one was already sent, and reruns both', async () => {
  // The refusal comes late, so the job has sent the next batch by then (two commits in flight);
  // that one must not commit after the gap, or the rerun would start past the refused rows.
  let refusedOnce = false;
  const rows = Array.from({ length: 2500 }, (_, i) => [`Row ${i}`, `late-${i}@late.example`]);
  const before = await ctx.server.countRecords('Leads');
  const out = await withLateRefusal(
    (batch) => {
      if (refusedOnce || batch.progress.rowsDone !== 1000) return false;
      refusedOnce = true;
      return true;
    },
    () => ctx.importer.importCsv(csvText(HEADER, rows), (f) => jobBody('insert', 'Leads', f, byPosition(...HEADER))),
  );
  expect(refusedOnce).toBe(true);
  expect(out.rows.map((r) => r.Last_Name)).toEqual(rows.map((r) => r[0]));
  expect(new Set(out.rows.map((r) => r.STATUS))).toEqual(new Set(['ADDED']));
  expect(fileCounts(out.job)).toMatchObject({ added_count: 2500, skipped_count: 0, total_count: 2500 });
  expect(await ctx.server.countRecords('Leads')).toBe(before + 2500);
});

/** Refuses the chosen batches only after the job has had time to send the batch after them. */
function withLateRefusal<T>(refuse: (batch: BatchCommit) => boolean, run: () => Promise<T>): Promise<T> {
  const sentAfter = new Set<number>();
  return interceptingCommits(async (batch, commit) => {
    sentAfter.add(batch.progress.rowsDone);
    if (!refuse(batch)) return commit(batch);
    const next = batch.progress.rowsDone + 500;
    for (let waited = 0; !sentAfter.has(next) && waited < 5000; waited += 5) await new Promise((r) => setTimeout(r, 5));
    if (!sentAfter.has(next)) throw new Error('the next batch was not sent while this one was in flight');
    throw new UniqueConflictError('injected late');
  }, run);
}

it('fails a job refused five times in a row at one checkpoint, keeping what it committed before', async () => {
  const rows = Array.from({ length: 1200 }, (_, i) => [`Row ${i}`, `stuck-${i}@stuck.example`]);
  const before = await ctx.server.countRecords('Leads');
  let refusals = 0;
  const job = await withRefusals(
    // Every batch past the checkpoint is refused; each pass's first one (rows 501-1000) counts it.
    (batch) => {
      if (batch.progress.rowsDone === 1000) refusals++;
      return batch.progress.rowsDone > 500;
    },
    async () => {
      const fileId = await ctx.importer.upload(csvText(HEADER, rows));
      const jobId = await ctx.importer.api.createJobId(jobBody('insert', 'Leads', fileId, byPosition(...HEADER)));
      return ctx.importer.api.waitForJob(jobId);
    },
  );
  expect(job.status).toBe('FAILED');
  expect(refusals).toBe(5);
  expect(fileCounts(job)).toMatchObject({ added_count: 500, total_count: 500 });
  expect(await ctx.server.countRecords('Leads')).toBe(before + 500);
});
