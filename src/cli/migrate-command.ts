import { Command } from 'commander';
import { buildConfig, maskPassword } from '../config.js';
import { openStores } from '../server.js';

/**
 * Brings a database up to this version's schema and exits. `serve` migrates at start too; this is
 * for deployments that migrate once before rolling out many processes.
 */
export function migrateCommand(): Command {
  return new Command('migrate')
    .description('apply pending schema migrations to PostgreSQL (--database-url, env DATABASE_URL) or to the data dir')
    .option('--database-url <url>', 'PostgreSQL to migrate (default: env DATABASE_URL)')
    .option('--data-dir <dir>', 'data dir to migrate when no database URL is given', './data')
    .action(async (o: { databaseUrl?: string; dataDir: string }) => {
      const config = buildConfig({ dataDir: o.dataDir, databaseUrl: o.databaseUrl });
      // Opening a store applies its pending migrations (under an advisory lock on PostgreSQL).
      const { store } = await openStores(config);
      await store.close();
      process.stderr.write(`schema up to date: ${config.databaseUrl ? maskPassword(config.databaseUrl) : config.dataDir}\n`);
    });
}
