import { spawn } from 'node:child_process';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestServer } from '../support/server.js';

export const CLI = path.resolve('dist/cli/main.js');

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A scratch dir used as cwd and HOME, so no profile file or ./data of the developer's leaks into a run. */
export async function cliWorkDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'bulkwright-cli-work-'));
  await mkdir(path.join(dir, 'home'));
  return dir;
}

/**
 * Runs `node dist/cli/main.js …` as a subprocess. Asynchronously: the server runs in this process,
 * so a blocking spawnSync would leave it unable to answer.
 */
export function runCli(workDir: string, args: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: workDir,
      env: { PATH: process.env.PATH ?? '', HOME: path.join(workDir, 'home'), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Flags that point the CLI at a test server with its all-scopes token. */
export function connectionFlags(server: TestServer, token = server.token): string[] {
  return ['--api-domain', server.baseUrl, '--upload-domain', server.baseUrl, '--token', token, '--org', server.orgId];
}

/** Ids from the `job <id> created: …` lines `import` prints. */
export function createdJobIds(stdout: string): string[] {
  return [...stdout.matchAll(/^job (\d{19}) created: /gm)].map((m) => m[1] as string);
}
