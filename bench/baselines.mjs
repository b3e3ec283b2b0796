// What the raw stores do with the same CSV: the ceilings Bulkwright's figures are divided by.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { BENCH_HEADER } from './generate-leads.mjs';

const COLUMNS = BENCH_HEADER.map((c) => `"${c}" TEXT`).join(', ');

/** `sqlite3` shell: `.import` into a plain table with a unique index on Email. */
export function sqliteImport(csvPath, rows) {
  const db = new URL('./.work/baseline.db', import.meta.url).pathname;
  rmSync(db, { force: true });
  const t0 = performance.now();
  const out = execFileSync('sqlite3', [db, `CREATE TABLE leads (${COLUMNS}); CREATE UNIQUE INDEX leads_email ON leads ("Email");`,
    `.import --csv --skip 1 ${csvPath} leads`, 'SELECT count(*) FROM leads;'], { encoding: 'utf8' });
  const seconds = (performance.now() - t0) / 1000;
  if (Number(out.trim()) !== rows) throw new Error(`sqlite3 imported ${out.trim()} rows, expected ${rows}`);
  rmSync(db, { force: true });
  return { seconds, rowsPerSecond: rows / seconds };
}

/**
 * The URL of database `name` on the server of `adminUrl`: only its path changes, so a query string
 * (`?sslmode=…`) or a password stays as given.
 */
export function databaseUrl(adminUrl, name) {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** `psql \copy` into a plain table with a unique index on Email, in a database of its own. */
export function postgresCopy(adminUrl, csvPath, rows) {
  const name = `bw_bench_copy_${Date.now()}`;
  execFileSync('psql', [adminUrl, '-qc', `CREATE DATABASE ${name}`]);
  const url = databaseUrl(adminUrl, name);
  try {
    execFileSync('psql', [url, '-qc', `CREATE TABLE leads (${COLUMNS}); CREATE UNIQUE INDEX leads_email ON leads ("Email");`]);
    const t0 = performance.now();
    execFileSync('psql', [url, '-qc', `\\copy leads FROM '${csvPath}' WITH (FORMAT csv, HEADER true)`]);
    const seconds = (performance.now() - t0) / 1000;
    const count = execFileSync('psql', [url, '-tAc', 'SELECT count(*) FROM leads'], { encoding: 'utf8' }).trim();
    if (Number(count) !== rows) throw new Error(`psql copied ${count} rows, expected ${rows}`);
    return { seconds, rowsPerSecond: rows / seconds };
  } finally {
    execFileSync('psql', [adminUrl, '-qc', `DROP DATABASE IF EXISTS ${name}`]);
  }
}

export function postgresAnswers(adminUrl) {
  try {
    execFileSync('psql', [adminUrl, '-tAc', 'SELECT 1'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
