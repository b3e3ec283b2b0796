// Starts `bulkwright serve` as its own process, so that its memory is measured alone.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

const CLI = new URL('../dist/cli/main.js', import.meta.url).pathname;

/** Peak resident set (VmHWM) and current RSS of a process, in MB, from /proc. */
export function memoryOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { peakMB: kb('VmHWM') / 1024, rssMB: kb('VmRSS') / 1024 };
}

/** CPU seconds (user + system, all threads) a process has used so far, from /proc. */
export function cpuSecondsOf(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export async function startServer({ databaseUrl = null, extraArgs = [] } = {}) {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'bulkwright-bench-'));
  const args = [CLI, 'serve', '--port', '0', '--data-dir', dataDir, '--profile', 'unlimited', '--bench-routes', '--log-level', 'warn',
    '--schema', new URL('./schema.yaml', import.meta.url).pathname, ...extraArgs];
  if (databaseUrl) args.push('--database-url', databaseUrl);
  // BENCH_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", go to the server's node.
  const nodeArgs = process.env.BENCH_NODE_ARGS ? process.env.BENCH_NODE_ARGS.split(' ') : [];
  const child = spawn(process.execPath, [...nodeArgs, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (c) => { stderr += c; });
  child.stdout.on('data', (c) => { stdout += c; });
  const baseUrl = await new Promise((resolve, reject) => {
    child.stdout.on('data', () => {
      const out = stdout;
      const m = /Bulkwright listening on (\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
  });
  const creds = JSON.parse(await readFile(path.join(dataDir, 'dev-credentials.json'), 'utf8'));
  return {
    baseUrl,
    dataDir,
    token: creds.access_token,
    orgId: creds.org_id,
    pid: child.pid,
    memory: () => memoryOf(child.pid),
    cpuSeconds: () => cpuSecondsOf(child.pid),
    stderr: () => stderr,
    /** What the server logged (at `--log-level info` this includes each job's time per phase). */
    stdout: () => stdout,
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
