// Runs jobs on one fresh server and prints rows/s, peak RSS and the server's CPU time for each: quicker than `npm run bench`
// for comparing two builds (alternate runs of each: this VM's speed drifts within minutes).
//   ROWS=1000000 OPS=insert,upsert [PG=postgres://…/db] [ARGS="--flag …"] [LOG=1] node bench/tools/one-job.mjs
// PG names an empty database made for the run (createdb): the server sets up its tables and org there.
// With PostgreSQL on this machine, each job's line adds the CPU its processes took (all of them, the
// server's backends, WAL writer and checkpointer included, from /proc), which is less noisy than the time.
// Needs bench/.work/leads-<ROWS>.zip (npm run bench makes it). Jobs are timed from the upload to the
// arrival of their callback, as in the bench.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { BenchApi, CallbackClock } from '../bench-api.mjs';
import { startServer } from '../server-process.mjs';

const rows = Number(process.env.ROWS ?? 1_000_000);
const zip = new URL(`../.work/leads-${rows}.zip`, import.meta.url).pathname;
if (!existsSync(zip)) {
  console.error(`${zip} is missing: run npm run bench once (it caches its files in bench/.work/)`);
  process.exit(2);
}
/** CPU milliseconds of each PostgreSQL process of this machine, by pid. */
function postgresCpu() {
  const out = new Map();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // ended since the listing
    }
    if (!stat.includes('(postgres)')) continue;
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.set(pid, (Number(f[11]) + Number(f[12])) * 10);
  }
  return out;
}

/** CPU seconds PostgreSQL's processes took since `before` (a process started since counts whole). */
function postgresSecondsSince(before) {
  let ms = 0;
  for (const [pid, now] of postgresCpu()) ms += now - (before.get(pid) ?? 0);
  return ms / 1000;
}

const clock = await new CallbackClock().start();
const server = await startServer({ databaseUrl: process.env.PG ?? null, extraArgs: (process.env.ARGS ?? '').split(' ').filter(Boolean) });
try {
  const api = new BenchApi(server);
  let n = 0;
  for (const op of (process.env.OPS ?? 'insert').split(',')) {
    execFileSync('sync');
    const pg0 = process.env.PG ? postgresCpu() : null;
    const t0 = performance.now();
    const cpu0 = server.cpuSeconds();
    const fileId = await api.upload(zip);
    const tag = `${op}-${++n}`;
    const jobId = await api.createJob(fileId, op, clock.urlFor(tag));
    const { job, endedAt } = await api.waitForJob(jobId, 1, clock.arrival(tag));
    const cpu = server.cpuSeconds() - cpu0;
    console.log(`${op} ${job.status} ${Math.round(rows / ((endedAt - t0) / 1000))} rows/s, ${((endedAt - t0) / 1000).toFixed(2)} s, peak ${Math.round(server.memory().peakMB)} MB, server CPU ${cpu.toFixed(2)} s${pg0 && pg0.size > 0 ? `, PostgreSQL CPU ${postgresSecondsSince(pg0).toFixed(2)} s` : ''}`);
    // With ARGS="--log-level info" the server logs each resource's time per phase (the last such
    // line is this job's), and LOG=1 prints every line it logged, timed from the upload's start.
    const logged = server.stderr().split('\n').filter(Boolean);
    if (process.env.LOG) {
      const start = Date.now() - (performance.now() - t0);
      for (const line of logged) {
        try {
          const { time, msg } = JSON.parse(line);
          console.log(`  ${Math.round(time - start)} ms ${msg}`);
        } catch {
          console.log(`  ${line}`);
        }
      }
    }
    const phases = logged.filter((l) => l.includes(' rows; read ')).pop();
    if (phases) console.log(`  ${JSON.parse(phases).msg.replace(/^.*?resource \d+: /, '')}`);
  }
} finally {
  await server.stop();
  clock.stop();
}
