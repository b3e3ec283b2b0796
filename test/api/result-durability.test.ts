/**
 * A batch's checkpoint counts the result lines written before it: they are synced to disk first,
 * so that after a crash of the machine a resumed job never finds fewer lines than its checkpoint.
 */
import { expect, it } from 'vitest';
import type { BatchCommit } from '../../src/ports/store.js';
import { byPosition, csvText, jobBody } from '../support/import-run.js';
import { useImportServer } from '../support/import-server.js';

const ctx = useImportServer();

it('syncs the result lines a checkpoint counts before committing it, batch after batch', async () => {
  const { store, blobs } = ctx.server.bw;
  const events: string[] = [];
  const { openAppender } = blobs;
  const { commitBatch } = store;
  blobs.openAppender = async (key, truncateTo) => {
    const appender = await openAppender.call(blobs, key, truncateTo);
    const sync = appender.sync.bind(appender);
    appender.sync = async () => {
      const size = appender.size;
      await sync();
      events.push(`synced ${size}`);
    };
    return appender;
  };
  store.commitBatch = async (batch: BatchCommit) => {
    events.push(`commit ${batch.progress.resultBytes}`);
    return commitBatch.call(store, batch);
  };
  try {
    const rows = Array.from({ length: 1200 }, (_, i) => [`Row ${i}`, `sync-${i}@durable.example`]);
    const out = await ctx.importer.importCsv(csvText(['Last_Name', 'Email'], rows), (f) => jobBody('insert', 'Leads', f, byPosition('Last_Name', 'Email')));
    expect(out.rows).toHaveLength(1200);
  } finally {
    blobs.openAppender = openAppender;
    store.commitBatch = commitBatch;
  }
  const commits = events.filter((e) => e.startsWith('commit'));
  expect(commits.length).toBeGreaterThanOrEqual(2);
  for (const commit of commits) {
    const bytes = Number(commit.split(' ')[1]);
    const synced = events.slice(0, events.indexOf(commit)).filter((e) => e.startsWith('synced')).map((e) => Number(e.split(' ')[1]));
    expect(Math.max(...synced)).toBeGreaterThanOrEqual(bytes);
  }
});
