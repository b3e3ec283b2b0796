import { formatZohoTime } from './time.js';

export type Operation = 'insert' | 'update' | 'upsert';
export const OPERATIONS: readonly Operation[] = ['insert', 'update', 'upsert'];

export type JobStatus = 'ADDED' | 'INPROGRESS' | 'COMPLETED' | 'FAILED';
export type ResourceStatus = 'ADDED' | 'INPROGRESS' | 'COMPLETED' | 'FAILED' | 'SKIPPED';

/** One `field_mappings[]` entry after validation; echoed with all six keys (CONTRACT.md). */
export interface FieldMapping {
  readonly apiName: string;
  readonly index: number | null;
  readonly format: string | null;
  readonly findBy: string | null;
  readonly module: string | null;
  readonly defaultValue: Readonly<Record<string, unknown>> | null;
}

export interface Callback {
  readonly url: string;
  readonly method: 'post';
}

export interface UserRef {
  readonly id: string;
  readonly name: string;
}

export interface ResourceCounts {
  readonly added: number;
  readonly updated: number;
  readonly skipped: number;
}

/** What a resource asked for, fixed at create time. */
export interface ResourceSpec {
  readonly moduleId: string;
  readonly moduleApiName: string;
  readonly fileId: string;
  readonly fileName: string;
  readonly findBy: string | null;
  readonly ignoreEmpty: boolean;
  readonly mappings: readonly FieldMapping[];
}

/** How far a resource has got; committed with each batch so a new worker can resume. */
export interface ResourceProgress {
  readonly status: ResourceStatus;
  readonly code: string;
  readonly counts: ResourceCounts;
  /** Data rows whose result is committed. */
  readonly rowsDone: number;
  /** Bytes of the result CSV that belong to committed rows. */
  readonly resultBytes: number;
}

export interface Job {
  readonly id: string;
  readonly orgId: string;
  readonly createdBy: UserRef;
  readonly createdTime: Date;
  readonly operation: Operation;
  readonly ignoreEmpty: boolean;
  readonly requestedEncoding: string | null;
  readonly characterEncoding: string | null;
  readonly callback: Callback | null;
  readonly status: JobStatus;
  readonly resources: readonly { readonly spec: ResourceSpec; readonly progress: ResourceProgress }[];
  readonly resultKey: string | null;
  readonly failure: string | null;
  readonly finishedTime: Date | null;
}

export const NEW_RESOURCE_PROGRESS: ResourceProgress = {
  status: 'ADDED',
  code: 'ADDED',
  counts: { added: 0, updated: 0, skipped: 0 },
  rowsDone: 0,
  resultBytes: 0,
};

export function totalCount(c: ResourceCounts): number {
  return c.added + c.updated + c.skipped;
}

export interface RenderContext {
  readonly timeZone: string;
  /** Absolute URL of the result zip; only used once the job has completed. */
  readonly downloadUrl: string;
  readonly moduleIds?: ReadonlyMap<string, string>;
}

/**
 * The job-details body, key for key as the seed's COMPLETED sample
 * (reference/seed-job-details.txt) and CONTRACT.md's state rules.
 */
export function renderJobDetails(job: Job, ctx: RenderContext): Record<string, unknown> {
  const body: Record<string, unknown> = { status: job.status };
  if (job.status !== 'ADDED' && job.characterEncoding) body.character_encoding = job.characterEncoding;
  body.resource = job.resources.map(({ spec, progress }) => renderResource(spec, progress));
  body.id = job.id;
  if (job.callback) body.callback = { url: job.callback.url, method: job.callback.method };
  if (job.status === 'COMPLETED') body.result = { download_url: ctx.downloadUrl };
  body.created_by = { id: job.createdBy.id, name: job.createdBy.name };
  body.ignore_empty = job.ignoreEmpty;
  body.operation = job.operation;
  body.created_time = formatZohoTime(job.createdTime, ctx.timeZone);
  return body;
}

function renderResource(spec: ResourceSpec, progress: ResourceProgress): Record<string, unknown> {
  const file: Record<string, unknown> = { status: progress.status };
  if (progress.status !== 'ADDED' && progress.status !== 'SKIPPED') {
    file.name = spec.fileName;
    file.added_count = progress.counts.added;
    file.skipped_count = progress.counts.skipped;
    file.updated_count = progress.counts.updated;
    file.total_count = totalCount(progress.counts);
  }
  return {
    status: progress.status,
    type: 'data',
    module: { id: spec.moduleId, api_name: spec.moduleApiName },
    field_mappings: spec.mappings.map(renderMapping),
    file,
    code: progress.code,
  };
}

export function renderMapping(m: FieldMapping): Record<string, unknown> {
  return {
    api_name: m.apiName,
    index: m.index,
    format: m.format,
    find_by: m.findBy,
    module: m.module,
    default_value: m.defaultValue,
  };
}
