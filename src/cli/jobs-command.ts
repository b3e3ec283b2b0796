import { isZohoApiDomain, jobCounts } from '@bulkwright/client';
import { Command } from 'commander';
import { UsageError } from './cli-exit.js';
import { addConnectionOptions, connect, type ConnectionFlags } from './connection-settings.js';

function positiveLimit(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 200) throw new UsageError('--limit takes a whole number from 1 to 200');
  return n;
}

export function jobsCommand(): Command {
  return addConnectionOptions(
    new Command('jobs')
      .description('list the most recent jobs of the org, newest first (a Bulkwright extension: Zoho CRM cannot list jobs)')
      .option('--limit <n>', 'how many (1-200)', positiveLimit, 20)
      .option('--json', 'print the {jobs:[…]} body as the API returned it'),
  )
    .exitOverride()
    .action(async (o: ConnectionFlags & { limit: number; json?: boolean }) => {
      const client = await connect(o);
      if (isZohoApiDomain(client.domains.api)) {
        throw new UsageError(`listing jobs is a Bulkwright extension: Zoho CRM (${client.domains.api}) has no API that lists bulk write jobs; use bulkwright job ID`);
      }
      const { jobs } = await client.listJobs(o.limit);
      if (o.json) {
        process.stdout.write(`${JSON.stringify({ jobs }, null, 2)}\n`);
        return;
      }
      for (const job of jobs) {
        const c = jobCounts(job);
        const r = job.resource[0];
        const what = `${r?.module.api_name ?? '-'} ${r?.file.name ?? '-'}`;
        process.stdout.write(`${job.id}  ${job.status.padEnd(10)}  ${job.operation.padEnd(6)}  ${job.created_time}  ${what}  ${c.total} rows (${c.added} added, ${c.updated} updated, ${c.skipped} skipped)\n`);
      }
      if (jobs.length === 0) process.stderr.write('no jobs yet\n');
    });
}
