import type { Readable } from 'node:stream';
import { canonicalEncoding } from '../ingest/charset.js';
import { Errors, keyDetails } from '../domain/errors.js';
import { isIdString } from '../domain/ids.js';
import { NEW_RESOURCE_PROGRESS, renderJobDetails, type Job, type ResourceSpec } from '../domain/job.js';
import { parseJobRequest, parseJsonBody } from '../domain/job-request.js';
import type { Limits } from '../domain/limits.js';
import { resolveMappings } from '../domain/mapping-rules.js';
import { hasAnyScope, SCOPES } from '../domain/scopes.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { Store } from '../ports/store.js';
import type { Principal } from './principal.js';

export interface JobServiceOptions {
  readonly limits: Limits;
  /** Absolute result URL: `{publicUrl}/v2/crm/{org}/bulk-write/{job}/{job}.zip` (CONTRACT.md). */
  readonly downloadUrl: (job: Pick<Job, 'id' | 'orgId'>) => string;
  /** Tells the in-process worker that a job is waiting. */
  readonly onJobCreated: () => void;
}

export class JobService {
  private readonly renderedJobs = new WeakMap<Job, Buffer>();

  constructor(
    private readonly store: Store,
    private readonly blobs: BlobStore,
    private readonly options: JobServiceOptions,
  ) {}

  /** Validates the whole request before anything is stored (reference §5.7): a refusal leaves no job. */
  async create(principal: Principal, rawBody: string): Promise<Job> {
    const request = parseJobRequest(parseJsonBody(rawBody));
    const org = await this.store.getOrg(principal.orgId);
    if (!org) throw Errors.invalidToken();
    let requestedEncoding: string | null = null;
    if (request.characterEncoding !== null) {
      requestedEncoding = canonicalEncoding(request.characterEncoding);
      if (!requestedEncoding) {
        throw Errors.invalidData(
          `character_encoding ${request.characterEncoding} is not supported`,
          keyDetails('character_encoding', '$.character_encoding'),
        );
      }
    }
    const modules = await this.store.listModules(org.id);
    const moduleByName = (name: string) => modules.find((m) => m.apiName.toLowerCase() === name.toLowerCase());
    const specs: ResourceSpec[] = [];
    for (const r of request.resources) {
      const module = r.moduleApiName !== null ? moduleByName(r.moduleApiName) : modules.find((m) => m.id === r.moduleId);
      const label = r.moduleApiName ?? r.moduleId ?? '';
      if (!module || (r.moduleId !== null && r.moduleApiName !== null && module.id !== r.moduleId)) {
        throw Errors.moduleNotAvailable(label, keyDetails('module', `${r.path}.module`));
      }
      if (!hasAnyScope(principal.scopes, SCOPES.moduleCreate(module.apiName, module.custom))) throw Errors.oauthScopeMismatch();
      const file = isIdString(r.fileId) ? await this.store.getFile(org.id, r.fileId) : null;
      if (!file) throw Errors.invalidFileId(keyDetails('file_id', `${r.path}.file_id`));
      const resolved = resolveMappings(r, {
        operation: request.operation,
        module,
        header: file.header,
        fileName: file.csvName,
        limits: this.options.limits,
        timeZone: org.timeZone,
        moduleByName,
      });
      specs.push({
        moduleId: module.id,
        moduleApiName: module.apiName,
        fileId: file.id,
        fileName: file.csvName,
        findBy: resolved.findBy,
        ignoreEmpty: r.ignoreEmpty ?? request.ignoreEmpty ?? false,
        mappings: resolved.mappings,
      });
    }
    const [jobId] = (await this.store.allocateIds(1)) as [string];
    const job: Job = {
      id: jobId,
      orgId: org.id,
      createdBy: { id: principal.userId, name: principal.userName },
      createdTime: new Date(),
      operation: request.operation,
      // Echoed at the top level as the docs and Postman send it; the SDKs put it per resource.
      ignoreEmpty: request.ignoreEmpty ?? request.resources[0]?.ignoreEmpty ?? false,
      requestedEncoding,
      characterEncoding: null,
      callback: request.callback,
      status: 'ADDED',
      resources: specs.map((spec) => ({ spec, progress: NEW_RESOURCE_PROGRESS })),
      resultKey: null,
      failure: null,
      finishedTime: null,
    };
    await this.store.createJob(job);
    this.options.onJobCreated();
    return job;
  }

  async get(principal: Principal, jobId: string): Promise<Job> {
    const job = isIdString(jobId) ? await this.store.getJob(principal.orgId, jobId) : null;
    if (!job) throw Errors.resourceNotFound();
    return job;
  }

  /**
   * The job-details body as bytes. A store hands out the same Job object while the job is
   * unchanged, so its rendering is kept with it: repeated polls cost no re-rendering.
   */
  async detailsJson(principal: Principal, jobId: string): Promise<Buffer> {
    const job = await this.get(principal, jobId);
    let bytes = this.renderedJobs.get(job);
    if (!bytes) {
      bytes = Buffer.from(JSON.stringify(await this.render(job)), 'utf8');
      this.renderedJobs.set(job, bytes);
    }
    return bytes;
  }

  async render(job: Job): Promise<Record<string, unknown>> {
    const org = await this.store.getOrg(job.orgId);
    return renderJobDetails(job, { timeZone: org?.timeZone ?? 'UTC', downloadUrl: this.options.downloadUrl(job) });
  }

  async list(principal: Principal, limit: number): Promise<Job[]> {
    return this.store.listJobs(principal.orgId, limit);
  }

  /** The result zip of a completed job of the caller's org; anything else is RESOURCE_NOT_FOUND. */
  async openResult(principal: Principal, orgId: string, jobId: string, fileName: string): Promise<{ stream: Readable; size: number }> {
    if (orgId !== principal.orgId || fileName !== `${jobId}.zip`) throw Errors.resourceNotFound();
    const job = await this.get(principal, jobId);
    if (job.status !== 'COMPLETED' || !job.resultKey) throw Errors.resourceNotFound();
    const size = await this.blobs.size(job.resultKey);
    if (size === null) throw Errors.resourceNotFound();
    return { stream: this.blobs.createReadStream(job.resultKey), size };
  }
}
