// Times the bench's upload of the 1M-row zip through the project's client, three times on each of
// three fresh servers (the first upload on a fresh server is the one the bench's insert pays for).
//   node bench/tools/upload-time.mjs [label]
import { existsSync } from 'node:fs';
import { BenchApi } from '../bench-api.mjs';
import { startServer } from '../server-process.mjs';

const zip = new URL('../.work/leads-1000000.zip', import.meta.url).pathname;
if (!existsSync(zip)) {
  console.error(`${zip} is missing: run npm run bench once (it caches its files in bench/.work/)`);
  process.exit(2);
}
const out = [];
for (let s = 0; s < 3; s++) {
  const server = await startServer({});
  try {
    const api = new BenchApi(server);
    const times = [];
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      await api.upload(zip);
      times.push((performance.now() - t).toFixed(0));
    }
    out.push(times.join('/'));
  } finally {
    await server.stop();
  }
}
console.log(`${process.argv[2] ?? ''} uploads, ms (three fresh servers): ${out.join('  ')}`);
