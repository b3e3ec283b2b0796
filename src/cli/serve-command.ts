import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Command, Option } from 'commander';
import { buildConfig, describeConfig } from '../config.js';
import type { ProfileName } from '../domain/limits.js';
import { createBulkwright } from '../server.js';
import { readSchemaFile } from './schema-file.js';
import { exitGracefullyOnSignals } from './shutdown.js';
import { parseLeaseMs } from './worker-command.js';

export function serveCommand(): Command {
  return new Command('serve')
    .description('run the API and an in-process job worker (embedded SQLite, or PostgreSQL with --database-url)')
    .option('--port <port>', 'port to listen on (0 picks a free one)', (v) => parsePort(v), 8080)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--data-dir <dir>', 'where the database and files live', './data')
    .option('--database-url <url>', 'use this PostgreSQL instead of the data dir (default: env DATABASE_URL)')
    .option('--public-url <url>', 'base of result download_url (default: the listening address)')
    .addOption(new Option('--profile <name>', 'limits profile').choices(['zoho', 'unlimited']).default('zoho'))
    .option('--schema <file>', 'custom modules and fields to add (JSON or YAML)')
    .option('--no-worker', 'serve the API only; run no jobs in this process (run `bulkwright worker` processes)')
    .option('--lease-ms <ms>', 'lease on a claimed job, renewed every third of it; a dead worker\'s job is taken over when it expires', parseLeaseMs, 30_000)
    .option('--bench-routes', 'serve the fixed-bytes baseline route used by npm run bench')
    .option('--log-level <level>', 'fatal, error, warn, info, debug', 'info')
    .action(async (opts: {
      port: number; host: string; dataDir: string; databaseUrl?: string; publicUrl?: string; profile: ProfileName; worker: boolean; leaseMs: number;
      logLevel: string; schema?: string; benchRoutes?: boolean;
    }) => {
      const config = buildConfig({
        port: opts.port,
        host: opts.host,
        dataDir: opts.dataDir,
        databaseUrl: opts.databaseUrl,
        publicUrl: opts.publicUrl ?? null,
        profile: opts.profile,
        worker: { enabled: opts.worker, leaseMs: opts.leaseMs },
        logLevel: opts.logLevel,
        benchRoutes: opts.benchRoutes === true,
      });
      const schema = opts.schema ? await readSchemaFile(opts.schema) : [];
      const bw = await createBulkwright(config, schema, {
        onJobThreadFailure: (e) => {
          process.stderr.write(`the job thread failed, stopping: ${e.stack ?? e.message}\n`);
          process.exit(1);
        },
      });
      const url = await bw.listen();
      // The listening line tells scripts and supervisors the server is ready, jobs included: a job
      // thread still loading would take the core a first upload needs (docs/performance.md).
      await bw.processing?.started;
      const credentials = path.join(config.dataDir, 'dev-credentials.json');
      if (bw.setup.token) await writeCredentials(credentials, bw.setup, bw.setup.token, url);
      process.stderr.write(`config: ${describeConfig(config)}\n`);
      if (bw.setup.token) process.stderr.write(`created org ${bw.setup.org.id}; credentials written to ${credentials}\n`);
      process.stdout.write(`Bulkwright listening on ${url}\n`);
      exitGracefullyOnSignals(() => bw.close());
    });
}

async function writeCredentials(
  file: string,
  setup: { org: { id: string }; admin: { id: string; name: string } },
  token: string,
  apiDomain: string,
): Promise<void> {
  const body = { org_id: setup.org.id, user_id: setup.admin.id, user_name: setup.admin.name, access_token: token, api_domain: apiDomain };
  // On PostgreSQL nothing else has created the data dir.
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
}

function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`invalid port ${v}`);
  return n;
}
