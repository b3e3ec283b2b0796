import { postgresCopy } from './baselines.mjs';
const r = postgresCopy('postgres://postgres@127.0.0.1:5432/test', new URL('./.work/leads-1000000.csv', import.meta.url).pathname, 1000000);
console.log(`copy ${Math.round(r.rowsPerSecond)} rows/s ${r.seconds.toFixed(2)} s`);
