import { jobCounts, type JobDetails } from '@bulkwright/client';
import { Command } from 'commander';
import { addConnectionOptions, connect, type ConnectionFlags } from './connection-settings.js';

/** A job as a few readable lines: the job, one line per resource, and where its result is. */
export function describeJob(job: JobDetails): string {
  const c = jobCounts(job);
  const lines = [`job ${job.id}: ${job.status} (${job.operation}), created ${job.created_time} by ${job.created_by.name}`];
  for (const r of job.resource) {
    const counts = r.file.total_count === undefined ? 'not started' : `${r.file.total_count} rows: ${r.file.added_count ?? 0} added, ${r.file.updated_count ?? 0} updated, ${r.file.skipped_count ?? 0} skipped`;
    lines.push(`  ${r.module.api_name}  ${r.file.name ?? '-'}  ${r.status}  ${counts}`);
  }
  if (job.resource.length > 1) lines.push(`  total ${c.total} rows: ${c.added} added, ${c.updated} updated, ${c.skipped} skipped`);
  if (job.result) lines.push(`  result: ${job.result.download_url}`);
  return `${lines.join('\n')}\n`;
}

export function jobCommand(): Command {
  return addConnectionOptions(
    new Command('job')
      .description('show a bulk write job: a readable summary, or the raw job-details body with --json')
      .argument('<id>', 'job id')
      .option('--json', 'print the job-details body as the API returned it'),
  )
    .exitOverride()
    .action(async (id: string, o: ConnectionFlags & { json?: boolean }) => {
      const job = await (await connect(o)).getJob(id);
      process.stdout.write(o.json ? `${JSON.stringify(job, null, 2)}\n` : describeJob(job));
    });
}
