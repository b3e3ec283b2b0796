import { existsSync } from 'node:fs';
import type { BulkwrightClient, ImportJob, ImportProgress, ImportSummary, Operation } from '@bulkwright/client';
import { ROWS_PER_JOB } from '@bulkwright/client';
import { Command, Option } from 'commander';
import { EXIT, ExitError, UsageError } from './cli-exit.js';
import { addConnectionOptions, connect, type ConnectionFlags } from './connection-settings.js';
import { progressReporter } from './import-progress.js';
import { writeReport } from './result-report.js';

interface ImportFlags extends ConnectionFlags {
  module: string;
  operation: Operation;
  findBy?: string;
  map?: Record<string, string>;
  ignoreEmpty?: boolean;
  wait?: boolean;
  result?: string;
  strict?: boolean;
  rowsPerJob: number;
  pollInterval: number;
  timeout: number;
}

/** `Col=Field,Col2=Field2` → {Col: Field, …}. */
function parseMap(value: string): Record<string, string> {
  const map: Record<string, string> = {};
  for (const pair of value.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const eq = pair.lastIndexOf('=');
    const column = pair.slice(0, eq).trim();
    const field = pair.slice(eq + 1).trim();
    if (eq <= 0 || column === '' || field === '') throw new UsageError(`--map takes Column=Field pairs separated by commas; "${pair}" is not one`);
    if (column in map) throw new UsageError(`--map names the column "${column}" twice`);
    map[column] = field;
  }
  return map;
}

function positiveInt(flag: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${flag} takes a whole number above 0`);
    return n;
  };
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

function printSummary(summary: ImportSummary): void {
  process.stdout.write(
    `${summary.status}: ${plural(summary.jobs.length, 'job')}, ${plural(summary.totalRows, 'row')}: ${summary.added} added, ${summary.updated} updated, ${summary.skipped} skipped\n`,
  );
  for (const job of summary.jobs) {
    if (job.details?.status === 'FAILED') process.stdout.write(`job ${job.id} FAILED (rows ${job.firstRow}-${job.firstRow + job.rows - 1})\n`);
  }
}

/** Downloads the results when they are wanted (a report file, or skipped rows to show) and lists the skipped rows. */
async function reportResults(client: BulkwrightClient, summary: ImportSummary, resultFile: string | undefined): Promise<void> {
  if (!resultFile && summary.skipped === 0) return;
  const outcome = await writeReport(client.importResults(summary), resultFile ?? null);
  if (outcome.firstSkipped.length > 0) {
    const more = outcome.skipped > outcome.firstSkipped.length ? ` (the first ${outcome.firstSkipped.length} of ${outcome.skipped})` : '';
    process.stdout.write(`skipped rows${more}:\n`);
    for (const row of outcome.firstSkipped) process.stdout.write(`  row ${row.row}: ${row.errorText || row.status}\n`);
  }
  if (resultFile) process.stdout.write(`report: ${resultFile} (${plural(outcome.rows, 'row')}, in input order, ROW = input data row)\n`);
}

export function importCommand(): Command {
  return addConnectionOptions(
    new Command('import')
      .description('import a CSV: zip, upload, create the job(s) and print their ids; split into jobs of 25,000 rows')
      .argument('<file>', 'the CSV file (header row first)')
      .requiredOption('--module <name>', 'module api_name, e.g. Leads')
      .addOption(new Option('--operation <op>', 'insert, update or upsert').choices(['insert', 'update', 'upsert']).default('insert'))
      .option('--find-by <field>', 'field that matches rows to records (needed for update and upsert)')
      .option('--map <pairs>', 'Column=Field,… (default: the header names the fields)', parseMap)
      .option('--ignore-empty', 'leave fields of empty cells untouched')
      .option('--wait', 'wait for the jobs to finish and print the outcome')
      .option('--result <file>', 'write the merged result report (CSV with a ROW column); implies --wait')
      .option('--strict', 'exit 1 when rows were skipped; implies --wait')
      .addOption(new Option('--rows-per-job <n>', 'data rows per job').argParser(positiveInt('--rows-per-job')).default(ROWS_PER_JOB))
      .addOption(new Option('--poll-interval <ms>', 'time between job polls').argParser(positiveInt('--poll-interval')).default(2000))
      .addOption(new Option('--timeout <seconds>', 'give up waiting after this long').argParser(positiveInt('--timeout')).default(3600)),
  )
    .exitOverride()
    .action(async (file: string, o: ImportFlags) => {
      if (!existsSync(file)) throw new UsageError(`no such file: ${file}`);
      if (o.operation !== 'insert' && !o.findBy) throw new UsageError(`--operation ${o.operation} needs --find-by FIELD: the field that matches rows to records`);
      const client = await connect(o);
      const wait = Boolean(o.wait || o.result || o.strict);
      // Draws nothing until the first poll, so a failed upload leaves the terminal clean.
      const progress = wait ? progressReporter() : null;
      const onJobCreated = (job: ImportJob, part: number, parts: number) => {
        const of = parts > 1 ? ` (part ${part} of ${parts})` : '';
        process.stdout.write(`job ${job.id} created: rows ${job.firstRow}-${job.firstRow + job.rows - 1} of ${file}${of}\n`);
      };
      const onProgress = (p: ImportProgress) => {
        progress?.update(p.rowsDone, p.rowsTotal, `job ${p.jobIndex + 1}/${p.jobsTotal} ${p.job.id} ${p.job.status}`);
      };
      let summary: ImportSummary;
      try {
        summary = await client.importCsv(file, {
          module: o.module, operation: o.operation, findBy: o.findBy, map: o.map, ignoreEmpty: o.ignoreEmpty,
          rowLimit: o.rowsPerJob, wait, pollIntervalMs: o.pollInterval, timeoutMs: o.timeout * 1000, onJobCreated, onProgress,
        });
      } finally {
        progress?.stop();
      }
      if (!wait) return;
      printSummary(summary);
      await reportResults(client, summary, o.result);
      if (summary.status === 'FAILED') throw new ExitError('a job FAILED: see bulkwright job ID', EXIT.api);
      if (o.strict && summary.skipped > 0) throw new ExitError(`${plural(summary.skipped, 'row')} skipped (--strict)`, EXIT.skippedRows);
    });
}

