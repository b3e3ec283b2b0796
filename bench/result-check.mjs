// "Every row correct": the result CSV says ADDED/UPDATED for every row, and stored records match.
import yauzl from 'yauzl';
import { CsvRecordReader } from '../dist/ingest/csv-record-reader.js';
import { BENCH_HEADER, leadFields } from './generate-leads.mjs';

export async function statusTally(zip) {
  const file = await yauzl.fromBufferPromise(zip, { lazyEntries: true });
  const entry = await new Promise((resolve, reject) => { file.once('entry', resolve); file.once('error', reject); file.readEntry(); });
  const stream = await file.openReadStreamPromise(entry);
  const reader = new CsvRecordReader(',');
  const decoder = new TextDecoder();
  const tally = {};
  const ids = new Set();
  let header = null;
  const take = (records) => {
    for (const r of records) {
      if (!header) { header = r; continue; }
      const status = r[header.indexOf('STATUS')];
      tally[status] = (tally[status] ?? 0) + 1;
      ids.add(r[header.indexOf('RECORD_ID')]);
    }
  };
  for await (const chunk of stream) take(reader.push(decoder.decode(chunk, { stream: true })));
  take(reader.end());
  return { tally, distinctRecordIds: ids.size };
}

/** Reads `samples` records back through the records API and compares every field with the CSV's. */
export async function sampleRecords(api, rows, samples) {
  let wrong = 0;
  for (let k = 0; k < samples; k++) {
    const i = Math.floor((k * rows) / samples);
    const expected = leadFields(i);
    const rec = await api.searchByEmail(`lead${i}@example.com`);
    const got = BENCH_HEADER.map((f) => (rec?.[f] === null || rec?.[f] === undefined ? '' : String(rec[f])));
    if (JSON.stringify(got) !== JSON.stringify(expected)) {
      wrong++;
      if (wrong <= 3) console.error(`row ${i}: expected ${JSON.stringify(expected)} got ${JSON.stringify(got)}`);
    }
  }
  return wrong;
}
