/** How a job cuts its rows into batches: each batch is one commit of records, counters, checkpoint and result lines. */
import { expect, it } from 'vitest';
import type { BatchCommit } from '../../src/ports/store.js';
import { byPosition, csvText, jobBody } from '../support/import-run.js';
import { partBytes } from '../support/result-parts.js';
import { useImportServer } from '../support/import-server.js';

const ctx = useImportServer({ worker: { batchSize: 500 } });

it('commits exactly batchSize rows at a time, the header line first on its own', async () => {
  const { store } = ctx.server.bw;
  const commits: { rows: number; lines: string }[] = [];
  const { commitBatch } = store;
  let rowsDone = 0;
  store.commitBatch = async (batch: BatchCommit) => {
    commits.push({ rows: batch.progress.rowsDone - rowsDone, lines: partBytes(batch.resultLines).toString('utf8') });
    rowsDone = batch.progress.rowsDone;
    return commitBatch.call(store, batch);
  };
  try {
    const rows = Array.from({ length: 1201 }, (_, i) => [`Row ${i}`, `batch-${i}@cuts.example`]);
    const out = await ctx.importer.importCsv(csvText(['Last_Name', 'Email'], rows), (f) => jobBody('insert', 'Leads', f, byPosition('Last_Name', 'Email')));
    expect(out.rows).toHaveLength(1201);
  } finally {
    store.commitBatch = commitBatch;
  }
  expect(commits.map((c) => c.rows)).toEqual([0, 500, 500, 201]);
  expect(commits[0]?.lines).toBe('Last_Name,Email,STATUS,RECORD_ID,ERRORS\n');
  expect(commits.map((c) => c.lines.split('\n').length - 1)).toEqual([1, 500, 500, 201]);
  expect(commits[3]?.lines.startsWith('Row 1000,batch-1000@cuts.example,ADDED,')).toBe(true);
});
