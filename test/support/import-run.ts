import { expect } from 'vitest';
import { parseResultCsv, type RawApi } from './api-client.js';
import { unzipEntries, zipCsv } from './zip.js';

export type Operation = 'insert' | 'update' | 'upsert';

export interface MappingInput {
  readonly api_name: string;
  readonly index?: number;
  readonly format?: string;
  readonly find_by?: string;
  readonly module?: string | { api_name: string };
  readonly default_value?: { value: string | number | boolean };
}

export interface ResourceOptions {
  readonly find_by?: string;
  readonly ignore_empty?: boolean;
}

export interface JobOptions {
  readonly ignore_empty?: boolean;
  readonly character_encoding?: string;
}

/** A create-job body with one resource; `mappings: null` leaves `field_mappings` out (the header names the fields). */
export function jobBody(
  operation: Operation,
  module: string,
  fileId: string,
  mappings: readonly MappingInput[] | null,
  resource: ResourceOptions = {},
  job: JobOptions = {},
): Record<string, unknown> {
  return {
    operation,
    ...job,
    resource: [
      {
        type: 'data',
        module: { api_name: module },
        file_id: fileId,
        ...resource,
        ...(mappings === null ? {} : { field_mappings: mappings }),
      },
    ],
  };
}

/** `api_name`s mapped to consecutive columns from 0, the common case of a CSV laid out field by field. */
export function byPosition(...apiNames: readonly string[]): MappingInput[] {
  return apiNames.map((api_name, index) => ({ api_name, index }));
}

export interface CsvLayout {
  readonly delimiter?: string;
  readonly eol?: string;
}

/** CSV text as a spreadsheet would save it: cells quoted only when they hold a delimiter, quote or line break. */
export function csvText(header: readonly string[], rows: readonly (readonly string[])[], layout: CsvLayout = {}): string {
  const delimiter = layout.delimiter ?? ',';
  const eol = layout.eol ?? '\r\n';
  const cell = (v: string): string => (/[",;:|\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  return [header, ...rows].map((r) => r.map(cell).join(delimiter)).join(eol) + eol;
}

export interface ImportOutcome {
  /** The final job-details body. */
  readonly job: Record<string, unknown>;
  /** Name of the CSV inside the result zip. */
  readonly entry: string;
  /** The result CSV exactly as downloaded. */
  readonly csv: string;
  readonly header: string[];
  readonly rows: Record<string, string>[];
  /** RECORD_ID per result row ('' when none). */
  readonly ids: string[];
}

const RECORD_ID = /^[1-9]\d{14,18}$/;

/** Upload → create job → wait → download, as a user's script would; fails the test unless the job completes. */
export class Importer {
  constructor(readonly api: RawApi) {}

  async upload(csv: string | Buffer, name = 'rows.csv'): Promise<string> {
    return this.api.uploadFileId(await zipCsv(name, csv));
  }

  async run(body: unknown): Promise<ImportOutcome> {
    const jobId = await this.api.createJobId(body);
    const job = await this.api.waitForJob(jobId);
    expect(job.status, `job ${jobId}: ${JSON.stringify(job)}`).toBe('COMPLETED');
    const dl = await this.api.download((job.result as { download_url: string }).download_url);
    expect(dl.status).toBe(200);
    const entries = await unzipEntries(dl.body);
    expect(entries.size).toBe(1);
    const [entry, content] = [...entries][0] as [string, Buffer];
    const csv = content.toString('utf8');
    const { header, rows } = parseResultCsv(csv);
    return { job, entry, csv, header, rows, ids: rows.map((r) => r.RECORD_ID ?? '') };
  }

  /** Uploads `csv` and runs the job `body(fileId)` builds. */
  async importCsv(csv: string | Buffer, body: (fileId: string) => unknown, name = 'rows.csv'): Promise<ImportOutcome> {
    return this.run(body(await this.upload(csv, name)));
  }
}

/** The resource's `file` counters of a finished job. */
export function fileCounts(job: Record<string, unknown>): Record<string, unknown> {
  return ((job.resource as Record<string, unknown>[])[0] as { file: Record<string, unknown> }).file;
}

/**
 * The result CSV with record ids made readable, so a whole file can be compared with an expected text:
 * ids listed in `known` become `<label>` in any cell; any other id in the RECORD_ID column becomes
 * `<new1>`, `<new2>`… in order of first appearance (so a repeated `<newN>` means the same record).
 */
export function labelIds(csv: string, known: Readonly<Record<string, string>> = {}): string {
  const labels = new Map(Object.entries(known).map(([label, id]) => [id, label]));
  let fresh = 0;
  const byRecordId = csv.replace(/,(\d{15,19}),((?:"(?:[^"]|"")*"|[^,\n"]*))$/gm, (all, id: string, errors: string) => {
    if (!RECORD_ID.test(id)) return all;
    let label = labels.get(id);
    if (label === undefined) {
      label = `new${++fresh}`;
      labels.set(id, label);
    }
    return `,<${label}>,${errors}`;
  });
  return byRecordId.replace(/(?<=^|,)\d{15,19}(?=,|$)/gm, (id) => {
    const label = labels.get(id);
    return label !== undefined && Object.values(known).includes(id) ? `<${label}>` : id;
  });
}

/** Result CSV text from lines, the way the server writes it (LF after every line). */
export function lines(...rows: readonly string[]): string {
  return rows.map((r) => `${r}\n`).join('');
}
