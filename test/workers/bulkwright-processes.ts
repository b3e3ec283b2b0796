import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { RawApi } from '../support/api-client.js';

const CLI = path.resolve('dist/cli/main.js');

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A `node dist/cli/main.js …` process whose output the test reads as it comes. */
export class BulkwrightProcess {
  private out = '';
  private err = '';
  readonly exited: Promise<Exit>;
  private readonly child: ChildProcess;

  constructor(args: readonly string[]) {
    // Only PATH from the environment: no DATABASE_URL or BULKWRIGHT_* of the shell leaks in.
    this.child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.on('data', (c: Buffer) => (this.out += c.toString('utf8')));
    this.child.stderr?.on('data', (c: Buffer) => (this.err += c.toString('utf8')));
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get stdout(): string {
    return this.out;
  }

  get stderr(): string {
    return this.err;
  }

  /** Ids of the jobs this process logged claiming, with the row it started at, in order. */
  claims(): { jobId: string; owner: string; row: number }[] {
    return [...this.err.matchAll(/job (\d{19}) claimed by (worker-\d+-[0-9a-f]+) at row (\d+)/g)].map((m) => ({
      jobId: m[1] as string, owner: m[2] as string, row: Number(m[3]),
    }));
  }

  /** Waits for stdout to match; fails early if the process exits. */
  async waitForStdout(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
    return this.waitFor(() => pattern.exec(this.out), `stdout ${pattern}`, timeoutMs);
  }

  async waitForStderr(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
    return this.waitFor(() => pattern.exec(this.err), `stderr ${pattern}`, timeoutMs);
  }

  /** Sends `signal` and waits for the exit. */
  async kill(signal: NodeJS.Signals): Promise<Exit> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }

  private async waitFor(find: () => RegExpExecArray | null, what: string, timeoutMs: number): Promise<RegExpExecArray> {
    let done = false;
    void this.exited.then(() => (done = true));
    const until = Date.now() + timeoutMs;
    for (;;) {
      const m = find();
      if (m) return m;
      if (done) throw new Error(`process exited before ${what}; stderr:\n${this.err}`);
      if (Date.now() > until) throw new Error(`no ${what} within ${timeoutMs} ms; stderr:\n${this.err}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

export interface Serve {
  readonly process: BulkwrightProcess;
  readonly baseUrl: string;
}

/** `bulkwright serve` on a free port; resolves once it listens. */
export async function startServe(args: readonly string[]): Promise<Serve> {
  const p = new BulkwrightProcess(['serve', '--port', '0', '--log-level', 'info', ...args]);
  const m = await p.waitForStdout(/^Bulkwright listening on (http:\/\/127\.0\.0\.1:\d+)$/m);
  return { process: p, baseUrl: m[1] as string };
}

/** `bulkwright worker`; resolves once it claims jobs. */
export async function startWorker(args: readonly string[]): Promise<BulkwrightProcess> {
  const p = new BulkwrightProcess(['worker', ...args]);
  await p.waitForStdout(/^Bulkwright worker running$/m);
  return p;
}

/** The API as the org `serve` created on its first start (its dev credentials in the data dir). */
export async function apiOf(dataDir: string, baseUrl: string): Promise<RawApi> {
  const creds = JSON.parse(await readFile(path.join(dataDir, 'dev-credentials.json'), 'utf8')) as { org_id: string; access_token: string };
  return new RawApi({ baseUrl, orgId: creds.org_id }, creds.access_token);
}
