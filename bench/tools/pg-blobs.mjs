// The PostgreSQL blob store alone: writes of the bench's 1,000,000-row zip (an upload's size), and
// reads of it by a consumer that spends WORK_MS per MB (a job inflates and parses what it reads),
// on a database made for the run and dropped after it. Compare builds by alternating runs.
//   [RUNS=4] [WORK_MS=20] [BENCH_PG_URL=postgres://postgres@127.0.0.1:5432/test] node bench/tools/pg-blobs.mjs
// Needs bench/.work/leads-1000000.zip (npm run bench makes it) and a build (npm run build).
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { setImmediate as turn } from 'node:timers/promises';
import { PgBlobStore } from '../../dist/blob/pg/pg-blob-store.js';
import { migrate } from '../../dist/store/postgres/migrations.js';
import { createPool } from '../../dist/store/postgres/pg-pool.js';
import { databaseUrl } from '../baselines.mjs';

const runs = Number(process.env.RUNS ?? 4);
const workMs = Number(process.env.WORK_MS ?? 20);
const adminUrl = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const zip = new URL('../.work/leads-1000000.zip', import.meta.url).pathname;
if (!existsSync(zip)) {
  console.error(`${zip} is missing: run npm run bench once (it caches its files in bench/.work/)`);
  process.exit(2);
}
const name = `bw_bench_blobs_${Date.now()}`;
execFileSync('psql', [adminUrl, '-qc', `CREATE DATABASE ${name}`]);
const pool = createPool(databaseUrl(adminUrl, name));
try {
  await migrate(pool);
  const blobs = new PgBlobStore(pool);
  const busy = (ms) => {
    const until = performance.now() + ms;
    while (performance.now() < until);
  };
  const writes = [];
  const reads = [];
  for (let i = 0; i < runs; i++) {
    let t0 = performance.now();
    const { size } = await blobs.write(`uploads/run-${i}.zip`, createReadStream(zip));
    writes.push(performance.now() - t0);
    t0 = performance.now();
    let read = 0;
    for await (const part of blobs.createReadStream(`uploads/run-${i}.zip`)) {
      read += part.length;
      busy((part.length / 1e6) * workMs);
      await turn();
    }
    reads.push(performance.now() - t0);
    if (read !== size) throw new Error(`read ${read} bytes of ${size}`);
  }
  const list = (xs) => xs.map((ms) => Math.round(ms)).join(', ');
  console.log(`write of ${zip.split('/').pop()}: ${list(writes)} ms`);
  console.log(`read with ${workMs} ms of work per MB: ${list(reads)} ms`);
} finally {
  await pool.end();
  execFileSync('psql', [adminUrl, '-qc', `DROP DATABASE IF EXISTS ${name}`]);
}
