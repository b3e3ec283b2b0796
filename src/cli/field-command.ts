import { Command } from 'commander';
import { buildConfig } from '../config.js';
import { parseFieldSpec } from '../domain/schema.js';
import { openStores } from '../server.js';
import { SchemaService } from '../services/schema-service.js';

export function fieldCommand(): Command {
  const field = new Command('field').description('custom fields of a data dir');
  field
    .command('add')
    .description('add a field to a module; existing records keep their values (the new field is empty)')
    .requiredOption('--module <api_name>', 'module to add the field to')
    .requiredOption('--api-name <name>', 'api_name of the new field')
    .requiredOption('--type <data_type>', 'text, textarea, email, phone, website, integer, bigint, double, currency, percent, boolean, date, datetime, picklist, multiselectpicklist, lookup, userlookup')
    .option('--data-dir <dir>', 'data dir of the server', './data')
    .option('--org <id>', 'org id (default: every org)')
    .option('--label <text>', 'field label')
    .option('--length <n>', 'maximum length', (v) => Number(v))
    .option('--unique', 'values must be unique (case-insensitive)')
    .option('--lookup-module <api_name>', 'module a lookup field points to')
    .option('--picklist <values>', 'comma-separated picklist values')
    .action(async (o: {
      module: string; apiName: string; type: string; dataDir: string; org?: string; label?: string; length?: number;
      unique?: boolean; lookupModule?: string; picklist?: string;
    }) => {
      const spec = parseFieldSpec(
        { api_name: o.apiName, data_type: o.type, label: o.label, length: o.length, unique: o.unique === true, lookup_module: o.lookupModule,
          picklist_values: o.picklist?.split(',').map((v) => v.trim()) },
        '--api-name',
      );
      const { store } = await openStores(buildConfig({ dataDir: o.dataDir }));
      try {
        const orgs = (await store.listOrgs()).filter((x) => !o.org || x.id === o.org);
        if (orgs.length === 0) throw new Error(o.org ? `no org ${o.org} in ${o.dataDir}` : `no org in ${o.dataDir} yet: run bulkwright serve once`);
        const schema = new SchemaService(store);
        for (const org of orgs) await schema.addField(org.id, o.module, spec);
        process.stderr.write(`added ${o.module}.${o.apiName} (${o.type}) to ${orgs.length} org${orgs.length === 1 ? '' : 's'}\n`);
      } finally {
        await store.close();
      }
    });
  return field;
}
