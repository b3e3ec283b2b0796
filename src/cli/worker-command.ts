import { Command, Option } from 'commander';
import { buildConfig, describeConfig } from '../config.js';
import type { ProfileName } from '../domain/limits.js';
import type { LogFn } from '../worker/job-processing.js';
import { startThreadedJobProcessing } from '../worker/threaded-job-processing.js';
import { UsageError } from './cli-exit.js';
import { exitGracefullyOnSignals } from './shutdown.js';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug'] as const;

/**
 * `bulkwright worker`: runs jobs and delivers callbacks, serves no API. Any number of them share a
 * PostgreSQL with `serve --no-worker` processes on any machines; on SQLite they share a data dir
 * on this one. Jobs run on the process's job thread, as in `serve`.
 */
export function workerCommand(): Command {
  return new Command('worker')
    .description('run jobs only, no API: with `serve --no-worker` on the same PostgreSQL (--database-url) or data dir')
    .option('--data-dir <dir>', 'where the database and files live (without --database-url)', './data')
    .option('--database-url <url>', 'the PostgreSQL the API processes use (default: env DATABASE_URL)')
    .option('--public-url <url>', 'base URL of the API, for download_url in callbacks (default: env BULKWRIGHT_PUBLIC_URL)')
    .addOption(new Option('--profile <name>', 'limits profile; the same as the API processes\'').choices(['zoho', 'unlimited']).default('zoho'))
    .option('--lease-ms <ms>', 'lease on a claimed job, renewed every third of it; a dead worker\'s job is taken over when it expires', parseLeaseMs, 30_000)
    .option('--concurrency <n>', 'jobs run at once', parseConcurrency, 1)
    .addOption(new Option('--log-level <level>', 'least severe level logged to stderr').choices(LEVELS).default('info'))
    .action(async (opts: { dataDir: string; databaseUrl?: string; publicUrl?: string; profile: ProfileName; leaseMs: number; concurrency: number; logLevel: string }) => {
      const config = buildConfig({
        dataDir: opts.dataDir,
        databaseUrl: opts.databaseUrl,
        publicUrl: opts.publicUrl,
        profile: opts.profile,
        worker: { leaseMs: opts.leaseMs, concurrency: opts.concurrency },
        logLevel: opts.logLevel,
      });
      if (!config.publicUrl) {
        throw new UsageError('worker needs --public-url (or env BULKWRIGHT_PUBLIC_URL): callbacks carry a download_url on the API, which this process does not serve');
      }
      const log = stderrLog(config.logLevel);
      process.stderr.write(`config: ${describeConfig(config)}\n`);
      const processing = startThreadedJobProcessing(config, config.publicUrl, log, (e) => {
        log('error', `${e.message}; exiting`);
        process.exit(1);
      });
      exitGracefullyOnSignals(() => processing.stop());
      await processing.started;
      process.stdout.write('Bulkwright worker running\n');
    });
}

/** JSON lines on stderr, as `serve` logs through Fastify: one object per event. */
function stderrLog(level: string): LogFn {
  const threshold = LEVELS.indexOf(level as (typeof LEVELS)[number]);
  return (l, msg) => {
    if (LEVELS.indexOf(l) > threshold) return;
    process.stderr.write(`${JSON.stringify({ level: l, time: new Date().toISOString(), pid: process.pid, msg })}\n`);
  };
}

export function parseLeaseMs(v: string): number {
  const n = Number(v);
  // Below a second the heartbeat (a third of the lease) would compete with the batches it guards.
  if (!Number.isInteger(n) || n < 1000) throw new UsageError(`--lease-ms takes a whole number of milliseconds of at least 1000, not ${v}`);
  return n;
}

function parseConcurrency(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--concurrency takes a whole number above 0, not ${v}`);
  return n;
}
