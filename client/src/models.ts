/**
 * Request and response bodies of Zoho CRM's Bulk Write API v2.1, as the wire carries them
 * (snake_case keys, ids as digit strings). Bulkwright answers with exactly these shapes.
 */

export type Operation = 'insert' | 'update' | 'upsert';
export type JobStatus = 'ADDED' | 'INPROGRESS' | 'COMPLETED' | 'FAILED';
export type ResourceStatus = JobStatus | 'SKIPPED';
export type RowStatus = 'ADDED' | 'UPDATED' | 'SKIPPED' | 'UNPROCESSED';

export interface DefaultValue {
  readonly value: string | number | boolean;
}

/** One CSV column → one field; `index` is the 0-based column, `find_by` names a lookup's key field. */
export interface FieldMapping {
  readonly api_name: string;
  readonly index?: number | null;
  readonly format?: string | null;
  readonly find_by?: string | null;
  readonly module?: string | null;
  readonly default_value?: DefaultValue | null;
}

export interface JobResourceRequest {
  readonly type: 'data';
  readonly module: { readonly api_name: string } | string;
  readonly file_id: string;
  /** Required for update and upsert: `id` or a unique field that is mapped. */
  readonly find_by?: string;
  readonly ignore_empty?: boolean;
  /** Left out, the CSV header names the fields. */
  readonly field_mappings?: readonly FieldMapping[];
}

export interface Callback {
  readonly url: string;
  readonly method: 'post';
}

export interface CreateJobRequest {
  readonly operation: Operation;
  readonly character_encoding?: string;
  readonly ignore_empty?: boolean;
  readonly callback?: Callback;
  readonly resource: readonly JobResourceRequest[];
}

export interface UploadResponse {
  readonly status: 'success';
  readonly code: 'FILE_UPLOAD_SUCCESS';
  readonly message: string;
  readonly details: { readonly file_id: string; readonly created_time: string };
}

export interface UserRef {
  readonly id: string;
  readonly name: string;
}

export interface CreateJobResponse {
  readonly status: 'success';
  readonly code: 'SUCCESS';
  readonly message: string;
  readonly details: { readonly id: string; readonly created_by: UserRef };
}

/** While a job is ADDED only `status` is present; the counts grow while it runs. */
export interface JobFile {
  readonly status: ResourceStatus;
  readonly name?: string;
  readonly added_count?: number;
  readonly skipped_count?: number;
  readonly updated_count?: number;
  readonly total_count?: number;
}

export interface JobResource {
  readonly status: ResourceStatus;
  readonly type: 'data';
  readonly module: { readonly id: string; readonly api_name: string };
  readonly field_mappings: readonly FieldMapping[];
  readonly file: JobFile;
  readonly code: string;
}

/** `GET /crm/bulk/v2.1/write/{id}`: the job object at the top level of the body. */
export interface JobDetails {
  readonly status: JobStatus;
  readonly character_encoding?: string;
  readonly resource: readonly JobResource[];
  readonly id: string;
  readonly callback?: Callback;
  /** Present once the job is COMPLETED. */
  readonly result?: { readonly download_url: string };
  readonly created_by: UserRef;
  readonly ignore_empty: boolean;
  readonly operation: Operation;
  readonly created_time: string;
}

/** Bulkwright's own `GET /bulkwright/v1/jobs`; Zoho has no way to list bulk write jobs. */
export interface JobList {
  readonly jobs: readonly JobDetails[];
}

export interface ZohoErrorBody {
  readonly code: string;
  readonly details: Readonly<Record<string, unknown>>;
  readonly message: string;
  readonly status: 'error';
}

/** `POST {accounts}/oauth/v2/token` on success; failures come as HTTP 200 `{error}`. */
export interface TokenResponse {
  readonly access_token: string;
  readonly refresh_token?: string;
  readonly api_domain?: string;
  readonly token_type: string;
  readonly expires_in: number;
}

/** One `CODE-Column[,Column]` group of a result row's ERRORS cell. */
export interface RowError {
  readonly code: string;
  readonly columns: readonly string[];
}

/** One line of a job's result CSV. */
export interface ResultRow {
  /** 1-based data row of the CSV the job ran on. */
  readonly row: number;
  /** Name of the CSV entry in the result zip (`{Module}-{csv name}`). */
  readonly file: string;
  /** Names of the echoed input columns (the first three mapped columns). */
  readonly columns: readonly string[];
  /** The echoed input cells, in `columns` order. */
  readonly values: readonly string[];
  readonly status: RowStatus;
  readonly recordId: string | null;
  /** The ERRORS cell as written, e.g. `MANDATORY_NOT_FOUND-Last_Name:DUPLICATE_DATA-Email`. */
  readonly errorText: string;
  readonly errors: readonly RowError[];
}

export interface JobCounts {
  readonly total: number;
  readonly added: number;
  readonly updated: number;
  readonly skipped: number;
}

/** Row counts summed over a job's resources; while a job runs they are the rows committed so far. */
export function jobCounts(job: JobDetails): JobCounts {
  let added = 0;
  let updated = 0;
  let skipped = 0;
  for (const r of job.resource) {
    added += r.file.added_count ?? 0;
    updated += r.file.updated_count ?? 0;
    skipped += r.file.skipped_count ?? 0;
  }
  return { total: added + updated + skipped, added, updated, skipped };
}

export function isFinished(job: JobDetails): boolean {
  return job.status === 'COMPLETED' || job.status === 'FAILED';
}
