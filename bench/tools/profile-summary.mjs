// Summarises a .cpuprofile (from `BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR"`, one file per
// thread: *.0.001 main, *.1.002 job thread, *.2.003 SQLite writer): self and inclusive time by function.
// node bench/tools/profile-summary.mjs FILE.cpuprofile [topSelf=30] [topInclusive=25]
import { readFileSync } from 'node:fs';

const [file, topSelf = '30', topInclusive = '25'] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/tools/profile-summary.mjs FILE.cpuprofile [topSelf] [topInclusive]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parentOf = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
const label = (n) => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber + 1}`;

const sampled = new Map();
let total = 0;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  total += dt;
  sampled.set(id, (sampled.get(id) ?? 0) + dt);
});
const self = new Map();
const inclusive = new Map();
for (const [id, dt] of sampled) {
  const l = label(byId.get(id));
  self.set(l, (self.get(l) ?? 0) + dt);
  // Each function once per sample, however often it recurses.
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parentOf.get(cur)) {
    const name = label(byId.get(cur));
    if (seen.has(name)) continue;
    seen.add(name);
    inclusive.set(name, (inclusive.get(name) ?? 0) + dt);
  }
}
const ms = (us) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
const top = (m, n) => [...m].sort((a, b) => b[1] - a[1]).slice(0, Number(n));
console.log(`${ms(total)} sampled`);
console.log('self:');
for (const [l, us] of top(self, topSelf)) console.log(`${ms(us)}  ${l}`);
console.log('inclusive:');
for (const [l, us] of top(inclusive, topInclusive)) console.log(`${ms(us)}  ${l}`);
