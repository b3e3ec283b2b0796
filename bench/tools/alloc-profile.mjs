// What the job thread's work allocates, by function, objects already collected included: the
// inspector's sampling heap profiler around bench/tools/job-thread.mjs (same arguments).
//   node --max-semi-space-size=4 bench/tools/alloc-profile.mjs [ZIP] [insert|upsert]
// A builtin (push, slice, …) is shown with the function that called it.
import { Session } from 'node:inspector/promises';

const session = new Session();
session.connect();
await session.post('HeapProfiler.enable');
await session.post('HeapProfiler.startSampling', { samplingInterval: 16384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
await import('./job-thread.mjs');
const { profile } = await session.post('HeapProfiler.stopSampling');
const name = (f) => `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
const bytes = new Map();
const walk = (node, parent) => {
  let key = name(node.callFrame);
  if (!node.callFrame.url && parent) key += ` <- ${name(parent.callFrame)}`;
  bytes.set(key, (bytes.get(key) ?? 0) + node.selfSize);
  for (const child of node.children) walk(child, node);
};
walk(profile.head, null);
const total = [...bytes.values()].reduce((a, b) => a + b, 0);
console.log(`allocated (sampled): ${(total / 1e6).toFixed(0)} MB`);
for (const [key, size] of [...bytes].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${(size / 1e6).toFixed(0).padStart(6)} MB  ${key}`);
