// Runs jobs on one fresh server and prints, per thread of the server process, the CPU time each job
// took (user + system, from /proc/<pid>/task/*/stat), the part of it in the kernel, and how long the
// thread waited runnable for a core (schedstat's run-queue time): which thread bounds a job, and
// whether the process is short of CPU rather than of work to do.
//   ROWS=1000000 OPS=insert,upsert [PG=postgres://…/db] node bench/tools/threads.mjs
// PG names an empty database made for the run (createdb): the server sets up its tables and org there.
// Every thread is called "node" by the kernel, so they are listed by id (creation order): the main
// thread first (the process id), V8's GC helpers soon after it (a few, with similar times, shared
// by all isolates), libuv's pool (inflate, deflate, file writes) after those, and the worker
// threads last: the job thread, then its commit thread.
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

/** CPU, kernel and run-queue seconds of each thread, by thread id, with the thread's name. */
function threadTimes(pid) {
  const out = new Map();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const runq = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[1]) / 1e9;
      out.set(tid, { name, cpu: (Number(f[11]) + Number(f[12])) / 100, sys: Number(f[12]) / 100, runq });
    } catch {
      // A thread that ended between the listing and the read.
    }
  }
  return out;
}

const clock = await new CallbackClock().start();
const server = await startServer({ databaseUrl: process.env.PG ?? null });
try {
  const api = new BenchApi(server);
  let n = 0;
  for (const op of (process.env.OPS ?? 'insert').split(',')) {
    execFileSync('sync');
    const before = threadTimes(server.pid);
    const t0 = performance.now();
    const fileId = await api.upload(zip);
    const tag = `${op}-${++n}`;
    const jobId = await api.createJob(fileId, op, clock.urlFor(tag));
    const { job, endedAt } = await api.waitForJob(jobId, 1, clock.arrival(tag));
    const after = threadTimes(server.pid);
    const seconds = (endedAt - t0) / 1000;
    const used = [...after].map(([tid, a]) => {
      const b = before.get(tid) ?? { cpu: 0, sys: 0, runq: 0 };
      return { tid, cpu: a.cpu - b.cpu, sys: a.sys - b.sys, runq: a.runq - b.runq };
    });
    const total = used.reduce((x, u) => x + u.cpu, 0);
    console.log(`${op} ${job.status} ${Math.round(rows / seconds)} rows/s, ${seconds.toFixed(2)} s, CPU ${total.toFixed(2)} s (${Math.round((100 * total) / seconds / 2)}% of 2 cores)`);
    for (const u of used.filter((x) => x.cpu >= 0.05).sort((x, y) => Number(x.tid) - Number(y.tid))) {
      const label = Number(u.tid) === server.pid ? ' (main)' : '';
      console.log(`  thread ${u.tid}${label}: CPU ${u.cpu.toFixed(2)} s (kernel ${u.sys.toFixed(2)}), waited for a core ${u.runq.toFixed(2)} s`);
    }
  }
} finally {
  await server.stop();
  clock.stop();
}
