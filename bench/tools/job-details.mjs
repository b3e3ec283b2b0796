// Job details against the bare route, alternating, on one fresh server: req/s, p99, and the server's
// CPU per request (user + system from /proc over autocannon's request count). The main thread is
// the bound under this load, so the ratio follows the two routes' CPU per request, which is steadier
// than req/s on a drifting VM.
//   [ROUNDS=2] [SECS=4] [ONLY=jd|bare] node bench/tools/job-details.mjs
// Needs bench/.work/leads-100000.zip (npm run bench makes it).
import { existsSync } from 'node:fs';
import autocannon from 'autocannon';
import { BenchApi } from '../bench-api.mjs';
import { startServer } from '../server-process.mjs';

const zip = new URL('../.work/leads-100000.zip', import.meta.url).pathname;
if (!existsSync(zip)) {
  console.error(`${zip} is missing: run npm run bench once (it caches its files in bench/.work/)`);
  process.exit(2);
}
const rounds = Number(process.env.ROUNDS ?? 2);
const seconds = Number(process.env.SECS ?? 4);
const server = await startServer();
try {
  const api = new BenchApi(server);
  const jobId = await api.createJob(await api.upload(zip), 'insert');
  await api.waitForJob(jobId, 10);
  await fetch(`${server.baseUrl}/bulkwright/bench/bytes`, { method: 'PUT', body: JSON.stringify(await api.job(jobId)) });
  const targets = Object.entries({
    jd: { url: `${server.baseUrl}/crm/bulk/v2.1/write/${jobId}`, headers: api.headers },
    bare: { url: `${server.baseUrl}/bulkwright/bench/bytes`, headers: {} },
  }).filter(([name]) => !process.env.ONLY || name === process.env.ONLY);
  const hit = ({ url, headers }, duration) => autocannon({ url, connections: 50, duration, headers });
  for (const [, target] of targets) await hit(target, 2);
  const total = { jd: 0, bare: 0 };
  for (let round = 0; round < rounds; round++) {
    const line = [];
    for (const [name, target] of targets) {
      const cpu0 = server.cpuSeconds();
      const r = await hit(target, seconds);
      if (r.non2xx > 0) throw new Error(`non-2xx answers from ${name}`);
      const us = ((server.cpuSeconds() - cpu0) * 1e6) / r.requests.total;
      total[name] += r.requests.average;
      line.push(`${name} ${Math.round(r.requests.average)} req/s, p99 ${r.latency.p99} ms, ${us.toFixed(2)} µs CPU a request`);
    }
    console.log(line.join('   '));
  }
  if (total.jd > 0 && total.bare > 0) console.log(`ratio ${(total.jd / total.bare).toFixed(3)}`);
} finally {
  await server.stop();
}
