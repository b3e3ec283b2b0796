import { NEW_RESOURCE_PROGRESS, type Job, type JobStatus, type ResourceProgress, type ResourceSpec } from '../domain/job.js';

type Row = Record<string, unknown>;
const str = (v: unknown): string => String(v);
const optStr = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/** How a backend stores what SQL has no common type for. */
export interface JobRowTypes {
  readonly date: (v: unknown) => Date | null;
  readonly flag: (v: unknown) => boolean;
}

/**
 * A `jobs` row and its `job_resources` rows (ordered by idx) as a Job: the two SQL stores share
 * the column names, and differ only in how they keep times and booleans.
 */
export function jobFromRows(r: Row, specs: readonly ResourceSpec[], progressRows: readonly Row[], types: JobRowTypes): Job {
  return {
    id: str(r.id),
    orgId: str(r.org_id),
    createdBy: { id: str(r.created_by_id), name: str(r.created_by_name) },
    createdTime: types.date(r.created_at) ?? new Date(0),
    operation: str(r.operation) as Job['operation'],
    ignoreEmpty: types.flag(r.ignore_empty),
    requestedEncoding: optStr(r.requested_encoding),
    characterEncoding: optStr(r.character_encoding),
    callback: r.callback_url === null ? null : { url: str(r.callback_url), method: 'post' },
    status: str(r.status) as JobStatus,
    resources: specs.map((spec, i) => {
      const p = progressRows[i];
      const progress: ResourceProgress = p
        ? {
            status: str(p.status) as ResourceProgress['status'],
            code: str(p.code),
            counts: { added: Number(p.added), updated: Number(p.updated), skipped: Number(p.skipped) },
            rowsDone: Number(p.rows_done),
            resultBytes: Number(p.result_bytes),
          }
        : NEW_RESOURCE_PROGRESS;
      return { spec, progress };
    }),
    resultKey: optStr(r.result_key),
    failure: optStr(r.failure),
    finishedTime: types.date(r.finished_at),
  };
}
