import { Command } from 'commander';
import { buildConfig } from '../config.js';
import { ALL_SCOPES } from '../domain/scopes.js';
import { openStores } from '../server.js';
import type { Store } from '../ports/store.js';
import { TokenService } from '../services/token-service.js';
import { chooseOrg, commaList } from './org-choice.js';

async function withTokens<T>(dataDir: string, fn: (tokens: TokenService, orgs: { id: string }[], store: Store) => Promise<T>): Promise<T> {
  const { store } = await openStores(buildConfig({ dataDir }));
  try {
    return await fn(new TokenService(store), await store.listOrgs(), store);
  } finally {
    await store.close();
  }
}

export function tokenCommand(): Command {
  const token = new Command('token').description('create, list and revoke access tokens of a data dir');
  token
    .command('create')
    .description('print a new access token (and nothing else) on stdout')
    .option('--data-dir <dir>', 'data dir of the server', './data')
    .option('--org <id>', 'org id (default: the first org)')
    .option('--user <id>', 'user id (default: the org admin)')
    .option('--scopes <list>', `comma-separated scopes (default: ${ALL_SCOPES.join(',')})`)
    .option('--expires-in <seconds>', 'lifetime in seconds (default: never expires)', (v) => positiveInt(v, '--expires-in'))
    .option('--label <text>', 'a note kept with the token', 'cli')
    .action(async (o: { dataDir: string; org?: string; user?: string; scopes?: string; expiresIn?: number; label: string }) => {
      await withTokens(o.dataDir, async (tokens, orgs) => {
        const orgId = chooseOrg(orgs, o.org, o.dataDir);
        const scopes = commaList(o.scopes);
        const created = await tokens.create({ orgId, userId: o.user, scopes, expiresInSeconds: o.expiresIn ?? null, label: o.label });
        process.stdout.write(`${created.token}\n`);
      });
    });
  token
    .command('list')
    .description('list the tokens of an org (never the tokens themselves: only their hashes are kept)')
    .option('--data-dir <dir>', 'data dir of the server', './data')
    .option('--org <id>', 'org id (default: the first org)')
    .action(async (o: { dataDir: string; org?: string }) => {
      await withTokens(o.dataDir, async (_tokens, orgs, store) => {
        const orgId = chooseOrg(orgs, o.org, o.dataDir);
        const now = Date.now();
        for (const t of await store.listTokens(orgId)) {
          const state = t.revokedAt ? 'revoked' : t.expiresAt && t.expiresAt.getTime() <= now ? 'expired' : 'active';
          process.stdout.write(`${t.hash.slice(0, 12)}  ${state.padEnd(7)}  ${t.createdAt.toISOString()}  ${t.expiresAt?.toISOString() ?? 'never'.padEnd(24)}  ${t.label}  ${t.scopes.join(',')}\n`);
        }
      });
    });
  token
    .command('revoke <token>')
    .description('revoke an access token')
    .option('--data-dir <dir>', 'data dir of the server', './data')
    .action(async (value: string, o: { dataDir: string }) => {
      await withTokens(o.dataDir, async (tokens) => {
        if (!(await tokens.revoke(value))) throw new Error('no such active token');
        process.stderr.write('token revoked\n');
      });
    });
  return token;
}

function positiveInt(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} takes a whole number of seconds above 0`);
  return n;
}
