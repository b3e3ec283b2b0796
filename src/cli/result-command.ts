import { Command } from 'commander';
import { addConnectionOptions, connect, type ConnectionFlags } from './connection-settings.js';
import { writeReport } from './result-report.js';

export function resultCommand(): Command {
  return addConnectionOptions(
    new Command('result')
      .description("download a completed job's result: the zip as is (-o FILE.zip) or its rows as CSV with a ROW column")
      .argument('<id>', 'job id')
      .option('-o, --output <file>', 'where to write it (default: the CSV on stdout)'),
  )
    .exitOverride()
    .action(async (id: string, o: ConnectionFlags & { output?: string }) => {
      const client = await connect(o);
      if (o.output && /\.zip$/i.test(o.output)) {
        await client.saveResultZip(id, o.output);
        process.stderr.write(`wrote the result zip of job ${id} to ${o.output}\n`);
        return;
      }
      const outcome = await writeReport(client.downloadResult(id), o.output ?? process.stdout);
      if (o.output) process.stderr.write(`wrote ${outcome.rows} rows (${outcome.skipped} skipped) of job ${id} to ${o.output}\n`);
    });
}
