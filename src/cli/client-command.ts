import { Command } from 'commander';
import { buildConfig } from '../config.js';
import { openStores } from '../server.js';
import { OAuthService } from '../services/oauth-service.js';
import { TokenService } from '../services/token-service.js';
import { chooseOrg, commaList } from './org-choice.js';

export function clientCommand(): Command {
  const client = new Command('client').description('OAuth "self clients" for the refresh-token flow');
  client
    .command('create')
    .description('create a self client and a grant code; prints {client_id, client_secret, code, expires_in, scopes} as JSON')
    .option('--data-dir <dir>', 'data dir of the server', './data')
    .option('--org <id>', 'org id (default: the first org)')
    .option('--user <id>', 'user the tokens act as (default: the org admin)')
    .option('--scopes <list>', 'comma-separated scopes (default: every scope)')
    .option('--name <text>', 'client name', 'Self Client')
    .option('--code-expires-in <seconds>', 'lifetime of the grant code', (v) => Number(v), 600)
    .option('--api-domain <url>', 'api_domain the token endpoint reports (default: none known offline)', '')
    .action(async (o: { dataDir: string; org?: string; user?: string; scopes?: string; name: string; codeExpiresIn: number; apiDomain: string }) => {
      if (!Number.isInteger(o.codeExpiresIn) || o.codeExpiresIn <= 0) throw new Error('--code-expires-in takes a whole number of seconds above 0');
      const { store } = await openStores(buildConfig({ dataDir: o.dataDir }));
      try {
        const orgs = await store.listOrgs();
        const orgId = chooseOrg(orgs, o.org, o.dataDir);
        const oauth = new OAuthService(store, new TokenService(store), () => o.apiDomain);
        const created = await oauth.createSelfClient({
          orgId, userId: o.user, name: o.name, codeSeconds: o.codeExpiresIn,
          scopes: commaList(o.scopes),
        });
        process.stdout.write(`${JSON.stringify(created, null, 2)}\n`);
      } finally {
        await store.close();
      }
    });
  return client;
}
