import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { splitCsv, type CsvChunk } from './csv-chunks.js';
import { CsvInputError } from './errors.js';
import { jobCounts, type Callback, type CreateJobRequest, type FieldMapping, type JobDetails, type Operation, type ResultRow } from './models.js';
import { zipCsvFile } from './zip-file.js';
import type { ZohoBulkClient } from './zoho-bulk-client.js';

/** Zoho's limit of data rows in one CSV of one job (reference §9: limits). */
export const ROWS_PER_JOB = 25_000;

export interface ImportOptions {
  readonly module: string;
  readonly operation?: Operation;
  /** The resource's `find_by`: required for update and upsert. */
  readonly findBy?: string;
  /** Header column name → field api_name; columns are looked up in the CSV's header. */
  readonly map?: Readonly<Record<string, string>>;
  /** Explicit mappings; with neither this nor `map`, the server maps the header names to fields. */
  readonly fieldMappings?: readonly FieldMapping[];
  readonly ignoreEmpty?: boolean;
  readonly characterEncoding?: string;
  readonly callback?: Callback;
  /** Data rows per job (default 25,000); a larger file becomes several jobs. */
  readonly rowLimit?: number;
  /** false: return once the jobs are created. Default true. */
  readonly wait?: boolean;
  readonly timeoutMs?: number;
  readonly pollIntervalMs?: number;
  /** `part` counts from 1 up to `parts`, the number of jobs the file was split into. */
  readonly onJobCreated?: (job: ImportJob, part: number, parts: number) => void;
  readonly onProgress?: (progress: ImportProgress) => void;
}

export interface ImportJob {
  readonly id: string;
  /** The CSV name the job ran on. */
  readonly file: string;
  /** 1-based input row of the job's first data row. */
  readonly firstRow: number;
  readonly rows: number;
  /** The job as last seen (final once waited for); null when not polled. */
  readonly details: JobDetails | null;
}

export interface ImportProgress {
  readonly rowsDone: number;
  readonly rowsTotal: number;
  /** The job being polled. */
  readonly job: JobDetails;
  readonly jobIndex: number;
  readonly jobsTotal: number;
}

export interface ImportSummary {
  readonly file: string;
  readonly module: string;
  readonly operation: Operation;
  readonly totalRows: number;
  readonly header: readonly string[];
  readonly jobs: readonly ImportJob[];
  /** CREATED when not waited for; FAILED when any job failed. */
  readonly status: 'CREATED' | 'COMPLETED' | 'FAILED';
  readonly added: number;
  readonly updated: number;
  readonly skipped: number;
}

export interface ImportResultRow extends ResultRow {
  readonly jobId: string;
}

function mappingsFrom(file: string, header: readonly string[], options: ImportOptions): FieldMapping[] | undefined {
  if (options.fieldMappings) return [...options.fieldMappings];
  if (!options.map) return undefined;
  return Object.entries(options.map).map(([column, apiName]) => {
    let index = header.indexOf(column);
    if (index < 0) index = header.findIndex((h) => h.trim().toLowerCase() === column.trim().toLowerCase());
    if (index < 0) throw new CsvInputError(`column "${column}" is not in the header of ${file} (its columns: ${header.join(', ')})`);
    return { api_name: apiName, index };
  });
}

function jobRequest(fileId: string, options: ImportOptions, mappings: FieldMapping[] | undefined): CreateJobRequest {
  return {
    operation: options.operation ?? 'insert',
    ...(options.characterEncoding ? { character_encoding: options.characterEncoding } : {}),
    ...(options.callback ? { callback: options.callback } : {}),
    resource: [
      {
        type: 'data',
        module: { api_name: options.module },
        file_id: fileId,
        ...(options.findBy ? { find_by: options.findBy } : {}),
        ...(options.ignoreEmpty !== undefined ? { ignore_empty: options.ignoreEmpty } : {}),
        ...(mappings ? { field_mappings: mappings } : {}),
      },
    ],
  };
}

async function createJob(client: ZohoBulkClient, chunk: CsvChunk, dir: string, n: number, request: (fileId: string) => CreateJobRequest): Promise<string> {
  const zipPath = path.join(dir, `part-${n}.zip`);
  await zipCsvFile(chunk.path, chunk.name, zipPath);
  const uploaded = await client.uploadFile(zipPath, { fileName: chunk.name.replace(/\.csv$/i, '.zip') });
  const created = await client.createJob(request(uploaded.details.file_id));
  return created.details.id;
}

/**
 * Every job is created before any is waited for, so the ids can be printed at once. Zoho may run
 * the jobs of one import side by side: rows that depend on rows of an earlier part (a repeated
 * upsert key) see them only if that part has finished.
 */
export async function importCsv(client: ZohoBulkClient, file: string, options: ImportOptions): Promise<ImportSummary> {
  if ((options.operation === 'update' || options.operation === 'upsert') && !options.findBy) {
    throw new CsvInputError(`${options.operation} needs findBy: the field that matches rows to existing records`);
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'bulkwright-import-'));
  try {
    const split = await splitCsv(file, dir, { rowLimit: options.rowLimit ?? ROWS_PER_JOB, name: path.basename(file).replace(/(\.csv)?$/i, '.csv') });
    const mappings = mappingsFrom(file, split.header, options);
    const jobs: ImportJob[] = [];
    for (const [k, chunk] of split.chunks.entries()) {
      const id = await createJob(client, chunk, dir, k + 1, (fileId) => jobRequest(fileId, options, mappings));
      const job: ImportJob = { id, file: chunk.name, firstRow: chunk.firstRow, rows: chunk.rows, details: null };
      jobs.push(job);
      options.onJobCreated?.(job, k + 1, split.chunks.length);
    }
    const base = { file, module: options.module, operation: options.operation ?? 'insert', totalRows: split.totalRows, header: split.header };
    if (options.wait === false) return { ...base, jobs, status: 'CREATED', added: 0, updated: 0, skipped: 0 };
    return { ...base, ...(await waitForAll(client, jobs, split.totalRows, options)) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function waitForAll(
  client: ZohoBulkClient,
  jobs: readonly ImportJob[],
  rowsTotal: number,
  options: ImportOptions,
): Promise<Pick<ImportSummary, 'jobs' | 'status' | 'added' | 'updated' | 'skipped'>> {
  const done: ImportJob[] = [];
  let rowsBefore = 0;
  for (const [jobIndex, job] of jobs.entries()) {
    const details = await client.waitForJob(job.id, {
      timeoutMs: options.timeoutMs,
      pollIntervalMs: options.pollIntervalMs,
      onProgress: (polled) =>
        options.onProgress?.({ rowsDone: rowsBefore + jobCounts(polled).total, rowsTotal, job: polled, jobIndex, jobsTotal: jobs.length }),
    });
    done.push({ ...job, details });
    rowsBefore += job.rows;
  }
  const counts = done.map((j) => jobCounts(j.details as JobDetails));
  return {
    jobs: done,
    status: done.some((j) => j.details?.status === 'FAILED') ? 'FAILED' : 'COMPLETED',
    added: counts.reduce((n, c) => n + c.added, 0),
    updated: counts.reduce((n, c) => n + c.updated, 0),
    skipped: counts.reduce((n, c) => n + c.skipped, 0),
  };
}

/** Result rows of the completed jobs in input order, numbered across the whole input. */
export async function* importResults(client: ZohoBulkClient, summary: ImportSummary): AsyncGenerator<ImportResultRow> {
  for (const job of summary.jobs) {
    if (job.details?.status !== 'COMPLETED') continue;
    for await (const row of client.downloadResult(job.details)) {
      yield { ...row, row: job.firstRow + row.row - 1, jobId: job.id };
    }
  }
}
