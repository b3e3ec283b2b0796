import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Limits } from '../domain/limits.js';
import { renderJobDetails, type Job, type ResourceProgress } from '../domain/job.js';
import type { ModuleDef } from '../domain/metadata.js';
import { formatZohoTime } from '../domain/time.js';
import type { BlobStore } from '../ports/blob-store.js';
import { LeaseLostError, NO_ROWS, UniqueConflictError, type CallbackDelivery, type ResultPart, type Store } from '../ports/store.js';
import { BatchProcessor } from './batch-processor.js';
import { readCsvBatches, type CsvBatch } from './csv-source.js';
import { deflateResultLines, echoedColumns, resultEntryName, resultHeaderLine, resultLines, writeResultZip } from './result-file.js';
import { isCsvName, openZipBlob } from './zip-source.js';

export interface JobRunnerOptions {
  readonly store: Store;
  readonly blobs: BlobStore;
  readonly limits: Limits;
  readonly batchSize: number;
  readonly leaseMs: number;
  readonly downloadUrl: (job: Job) => string;
  readonly log: (level: 'info' | 'warn' | 'error', msg: string, extra?: Record<string, unknown>) => void;
}

/** What a resource's run reads once, whatever the number of passes. */
interface ResourceContext {
  readonly org: { id: string; timeZone: string };
  readonly modules: readonly ModuleDef[];
  readonly encoding: string;
  readonly file: NonNullable<Awaited<ReturnType<Store['getFile']>>>;
}

/**
 * Commits a job may have sent and not seen answered. Two: the commit thread (or PostgreSQL) starts
 * on the next batch as soon as one commits, instead of waiting for the job thread to send it
 * (alternating bench/tools/one-job.mjs runs: SQLite insert +7%, PostgreSQL +8%). Each batch says
 * where it continues from (BatchCommit.continues), so none commits after one that failed.
 */
const MAX_COMMITS_IN_FLIGHT = 2;

/** Passes in a row that a taken unique value may cost at one checkpoint before the job ends FAILED. */
const MAX_CONFLICT_REDOS = 5;

/** Thrown for a job that cannot go on (file gone or unreadable); the job ends FAILED. */
class JobFailure extends Error {}

/** Thrown between batches once the worker is stopping: the job stays INPROGRESS at its last checkpoint. */
class JobPaused extends Error {}

/** Where versions before result_chunks appended a resource's result lines (read once on resume). */
const legacyResultKey = (jobId: string, index: number): string => `results/${jobId}/${index}.csv`;
export const resultZipKey = (jobId: string): string => `results/${jobId}/${jobId}.zip`;

/**
 * Runs one claimed job through the pipeline: zip entry → decode → CSV → batch → store, committing
 * records, counters and checkpoint together per batch (DESIGN.md "Data flow", step 3). A rerun
 * after a crash resumes at the checkpoint and cuts the result file back to it.
 */
export class JobRunner {
  constructor(private readonly o: JobRunnerOptions) {}

  /**
   * @param stopping once aborted, the run ends after the batch in flight commits (graceful shutdown).
   * @returns the finished job, or null when it stopped first: the lease was lost to another worker,
   * or `stopping` was aborted; the job is then INPROGRESS at its last checkpoint.
   */
  async run(claimed: Job, workerId: string, stopping?: AbortSignal): Promise<Job | null> {
    const { store } = this.o;
    let renewing: Promise<unknown> = Promise.resolve();
    const heartbeat = setInterval(() => {
      renewing = store.renewLease(claimed.id, workerId, this.o.leaseMs, new Date()).catch(() => undefined);
    }, Math.max(50, Math.floor(this.o.leaseMs / 3)));
    try {
      return await this.runResources(claimed, workerId, stopping);
    } catch (e) {
      if (e instanceof LeaseLostError) {
        this.o.log('warn', `lease lost on job ${claimed.id}; another worker will finish it`);
        return null;
      }
      if (e instanceof JobPaused) {
        this.o.log('info', `job ${claimed.id} paused at ${e.message} for shutdown`);
        return null;
      }
      throw e;
    } finally {
      clearInterval(heartbeat);
      // A renewal still under way would land after what the caller does with the lease next
      // (release it, or keep it for a retry's wait) and undo it.
      await renewing;
    }
  }

  private async runResources(claimed: Job, workerId: string, stopping: AbortSignal | undefined): Promise<Job> {
    const { store } = this.o;
    const org = await this.orgOf(claimed);
    const modules = await store.listModules(org.id);
    const files = await Promise.all(claimed.resources.map((r) => store.getFile(org.id, r.spec.fileId)));
    const encoding = claimed.requestedEncoding ?? files[0]?.encoding ?? 'UTF-8';
    let job: Job = { ...claimed, status: 'INPROGRESS', characterEncoding: encoding };

    for (let i = 0; i < job.resources.length; i++) {
      const resource = job.resources[i] as Job['resources'][number];
      if (resource.progress.status === 'COMPLETED') {
        await this.adoptLegacyLines(job, i, workerId, resource.progress);
        continue;
      }
      if (stopping?.aborted) throw new JobPaused(`resource ${i}`);
      const isLast = i === job.resources.length - 1;
      await store.startResource(job.id, workerId, i, encoding);
      let progress: ResourceProgress;
      try {
        const file = files[i];
        if (!file) throw new JobFailure(`file ${resource.spec.fileId} is no longer available`);
        progress = await this.runResource(job, i, { org, modules, encoding: claimed.requestedEncoding ?? file.encoding, file }, workerId, stopping);
      } catch (e) {
        if (e instanceof LeaseLostError || e instanceof JobPaused) throw e;
        // A store that could not be reached (a connection lost, a server restarting) is no fault of
        // the file: the worker runs the job again later, from its checkpoint.
        if (store.isUnavailable(e)) throw e;
        return this.fail(job, i, org, workerId, e instanceof Error ? e.message : String(e));
      }
      job = withProgress(job, i, progress);
      if (!isLast) {
        await store.finishResource(job.id, workerId, i, progress, null);
        continue;
      }
      const zipKey = resultZipKey(job.id);
      try {
        await writeResultZip(
          this.o.blobs,
          store,
          job.id,
          zipKey,
          job.resources.map((r, k) => ({ name: resultEntryName(r.spec.moduleApiName, r.spec.fileName), size: r.progress.resultBytes, resourceIndex: k })),
        );
      } catch (e) {
        if (store.isUnavailable(e)) throw e;
        // A job that cannot finish must end, not go back to the queue to fail again at once.
        return this.fail(job, i, org, workerId, `the result file could not be written: ${e instanceof Error ? e.message : String(e)}`);
      }
      const at = new Date();
      job = { ...job, status: 'COMPLETED', resultKey: zipKey, finishedTime: at };
      const callback = await this.callbackOf(job, org.timeZone);
      await store.finishResource(job.id, workerId, i, progress, { status: 'COMPLETED', resultKey: zipKey, failure: null, at, callback });
    }
    return job;
  }

  /**
   * Ends a claimed job FAILED without running it, at the resource it had reached (CANNOT_PROCESS,
   * later resources SKIPPED, its callback recorded): for a job whose runs keep ending without
   * progress (JobWorker), which another run would only interrupt again.
   */
  async abandon(claimed: Job, workerId: string, reason: string): Promise<Job> {
    const org = await this.orgOf(claimed);
    const at = claimed.resources.findIndex((r) => r.progress.status !== 'COMPLETED');
    return this.fail(claimed, at < 0 ? claimed.resources.length - 1 : at, org, workerId, reason);
  }

  private async orgOf(job: Job): Promise<{ id: string; timeZone: string }> {
    const org = await this.o.store.getOrg(job.orgId);
    if (!org) throw new Error(`org ${job.orgId} of job ${job.id} is missing`);
    return org;
  }

  /** The job's callback, recorded with the job's end (one transaction) so that no crash between the two can lose it. */
  private async callbackOf(job: Job, timeZone: string): Promise<CallbackDelivery | null> {
    if (!job.callback) return null;
    const [id] = (await this.o.store.allocateIds(1)) as [string];
    return { id, jobId: job.id, url: job.callback.url, body: this.renderFinal(job, timeZone), attempts: 0 };
  }

  /** Ends the job FAILED at resource i (CANNOT_PROCESS), later resources SKIPPED. */
  private async fail(job: Job, i: number, org: { id: string; timeZone: string }, workerId: string, reason: string): Promise<Job> {
    this.o.log('error', `job ${job.id} resource ${i} failed: ${reason}`);
    const failed = { ...(await this.currentProgress(job.id, org.id, i)), status: 'FAILED' as const, code: 'CANNOT_PROCESS' };
    let ended: Job = { ...withProgress(job, i, failed), status: 'FAILED', failure: reason };
    ended = {
      ...ended,
      resources: ended.resources.map((r) => (r.progress.status === 'ADDED' ? { ...r, progress: { ...r.progress, status: 'SKIPPED', code: 'SKIPPED' } } : r)),
    };
    const callback = await this.callbackOf(ended, org.timeZone);
    await this.o.store.finishResource(job.id, workerId, i, failed, { status: 'FAILED', resultKey: null, failure: reason, at: new Date(), callback });
    return ended;
  }

  private async currentProgress(jobId: string, orgId: string, i: number): Promise<ResourceProgress> {
    const fresh = await this.o.store.getJob(orgId, jobId);
    const p = fresh?.resources[i]?.progress;
    if (!p) throw new Error(`job ${jobId} vanished`);
    return p;
  }

  /**
   * Runs a resource from its checkpoint. An insert job first trusts the unique indexes (no lookup
   * of each row's unique values); a batch they refuse is redone from the last checkpoint with
   * lookups, as is one whose values another job took between its lookup and its commit.
   */
  private async runResource(
    job: Job,
    index: number,
    ctx: ResourceContext,
    workerId: string,
    stopping: AbortSignal | undefined,
  ): Promise<ResourceProgress> {
    let from: ResourceProgress = { ...(job.resources[index] as Job['resources'][number]).progress, status: 'INPROGRESS', code: 'INPROGRESS' };
    let trustUniqueIndexes = job.operation === 'insert';
    /** Conflicts in a row at the same checkpoint: a pass that commits anything starts the count again. */
    let stuck = 0;
    for (;;) {
      const run = await this.runResourceFrom(job, index, ctx, workerId, stopping, from, trustUniqueIndexes);
      if (run.conflict === null) return run.progress;
      stuck = run.progress.rowsDone > from.rowsDone ? 1 : stuck + 1;
      // Other jobs keep taking this one's values at the same batch, or a batch conflicts with
      // itself: the job ends FAILED with what the store said.
      if (stuck >= MAX_CONFLICT_REDOS) throw run.conflict;
      this.o.log('info', `job ${job.id} resource ${index}: ${run.conflict.message}; redoing from row ${run.progress.rowsDone + 1} with lookups`);
      from = run.progress;
      trustUniqueIndexes = false;
    }
  }

  /**
   * One pass from `from` to the resource's end, or to a batch the store refused for a taken unique
   * value: then `conflict` is set and `progress` is the last committed checkpoint.
   */
  private async runResourceFrom(
    job: Job,
    index: number,
    ctx: ResourceContext,
    workerId: string,
    stopping: AbortSignal | undefined,
    from: ResourceProgress,
    trustUniqueIndexes: boolean,
  ): Promise<{ progress: ResourceProgress; conflict: UniqueConflictError | null }> {
    const { store, blobs } = this.o;
    const { spec } = job.resources[index] as Job['resources'][number];
    let progress = from;
    let committedProgress = from;
    const module = ctx.modules.find((m) => m.id === spec.moduleId);
    if (!module) throw new JobFailure(`module ${spec.moduleApiName} no longer exists`);
    const actor = await store.getUser(ctx.org.id, job.createdBy.id);
    if (!actor) throw new JobFailure(`user ${job.createdBy.id} no longer exists`);
    const delimiterByte = ctx.file.delimiter.charCodeAt(0);
    const processor = new BatchProcessor(
      {
        operation: job.operation,
        module,
        mappings: spec.mappings,
        findBy: spec.findBy,
        ignoreEmpty: spec.ignoreEmpty,
        timeZone: ctx.org.timeZone,
        maxRows: this.o.limits.maxRowsPerCsv,
        columnCount: ctx.file.header.length,
        actor,
        users: await store.listUsers(ctx.org.id),
        moduleByName: (name) => ctx.modules.find((m) => m.apiName.toLowerCase() === name.toLowerCase()),
        trustUniqueIndexes,
        recordLines: store.writesRecordLines,
        delimiter: delimiterByte,
        echoedColumns: echoedColumns(spec.mappings),
      },
      store,
    );

    const size = await blobs.size(ctx.file.blobKey);
    if (size === null) throw new JobFailure(`uploaded file ${ctx.file.id} is missing from blob storage`);
    const zip = await openZipBlob(blobs, ctx.file.blobKey, size);
    /** Commits sent and not yet awaited, oldest first: each settles to its failure, or null. */
    const inFlight: Promise<{ failure: unknown } | null>[] = [];
    try {
      const entry = zip.entries.find((e) => isCsvName(e.name) && (e.name.split('/').pop() ?? e.name) === ctx.file.csvName);
      if (!entry) throw new JobFailure(`${ctx.file.csvName} is missing from the uploaded zip`);
      const echoed = echoedColumns(spec.mappings);
      await this.adoptLegacyLines(job, index, workerId, progress);
      if (progress.resultBytes === 0) {
        const header = resultHeaderLine(ctx.file.header, echoed);
        progress = { ...progress, resultBytes: header.length };
        // Deflated, as every batch's lines: the store can then join the result zip where its
        // chunks are (writeResultZip), with none left to deflate.
        await this.commitLinesAlone(job, index, workerId, progress, await deflateResultLines(header));
        committedProgress = progress;
      }

      // Where a job's time goes, per phase, logged at its end (docs/performance.md reads these).
      const spent = { read: 0, validate: 0, result: 0, commit: 0, deflate: 0, send: 0, yield: 0 };
      let mark = performance.now();
      const lap = (phase: keyof typeof spent): void => {
        const t = performance.now();
        spent[phase] += t - mark;
        mark = t;
      };
      // Past the header, then the rows a previous run committed.
      const source = await zip.openEntry(entry, 128 * 1024);
      const batches = readCsvBatches(
        source,
        { encoding: ctx.encoding, delimiter: ctx.file.delimiter, recordBytes: processor.takesRecordBytes, cellChecks: processor.cellChecks },
        this.o.batchSize,
        progress.rowsDone + 1,
      );
      // Commits may be in flight while the next batch is validated: with a store that writes
      // elsewhere (the commit thread, a PostgreSQL server) both cores work. Commits stay in order.
      let committed = 0;
      /**
       * Waits until at most `pending` commits are unanswered, oldest first, and throws the failure of
       * the first that failed. In order, not by time: the batches sent after a failed one fail too
       * (CheckpointMovedError), and may do so first.
       */
      const settle = async (pending = 0): Promise<void> => {
        while (inFlight.length > pending) {
          const outcome = await inFlight.shift();
          if (outcome) throw outcome.failure;
        }
      };
      const flush = async (batch: CsvBatch): Promise<void> => {
        if (batch.length === 0) return;
        const now = new Date();
        mark = performance.now();
        const result = await processor.process(batch, progress.rowsDone + 1, formatZohoTime(now, ctx.org.timeZone), committed);
        for (const [field, values] of result.newPicklistValues) await store.addPicklistValues(module.id, field, values);
        lap('validate');
        const raw = batch.recordBytes;
        const lines = resultLines(batch, result.outcomes, echoed, raw && { bytes: raw.bytes, starts: raw.starts, ends: raw.ends, delimiter: delimiterByte });
        // On libuv's pool while this thread waits for the commit before; awaited once that is in.
        const deflating = deflateResultLines(lines);
        deflating.catch(() => undefined);
        lap('result');
        const counts = { ...progress.counts };
        for (const o of result.outcomes) {
          if (o.status === 'ADDED') counts.added++;
          else if (o.status === 'UPDATED') counts.updated++;
          else counts.skipped++;
        }
        const continues = progress.resultBytes;
        progress = { ...progress, counts, rowsDone: progress.rowsDone + batch.length, resultBytes: progress.resultBytes + lines.length };
        const checkpoint = progress;
        await settle(MAX_COMMITS_IN_FLIGHT - 1);
        lap('commit');
        const deflated = await deflating;
        lap('deflate');
        const commit = store
          .commitBatch({
            jobId: job.id, workerId, resourceIndex: index, moduleId: module.id, userId: actor.id,
            inserts: result.inserts, updates: result.updates, progress: checkpoint, resultLines: deflated, continues, leaseMs: this.o.leaseMs, now,
          })
          .then(
            () => {
              committed++;
              committedProgress = checkpoint;
              return null;
            },
            // Kept, not left unhandled: settle() throws it where the job waits for this commit.
            (e: unknown) => ({ failure: e }),
          )
          .finally(() => batch.recordBytes?.release());
        inFlight.push(commit);
        lap('send');
        // Let job-details polls and uploads in between batches (issue: the server stays responsive).
        await yieldToEventLoop();
        lap('yield');
      };
      for await (const records of batches) {
        if (stopping?.aborted) {
          // Rows read but not flushed have no result line yet: the next run reads them again.
          await settle();
          throw new JobPaused(`resource ${index} row ${progress.rowsDone}`);
        }
        lap('read');
        // Each batch of the reader is one of the job's: batchSize rows, wherever its chunks end.
        await flush(records);
        mark = performance.now();
      }
      await settle();
      lap('commit');
      const ms = (n: number): string => `${Math.round(n)} ms`;
      this.o.log('info', `job ${job.id} resource ${index}: ${progress.rowsDone} rows; read ${ms(spent.read)}, validate ${ms(spent.validate)}, result ${ms(spent.result)}, commit ${ms(spent.commit)}, deflate ${ms(spent.deflate)}, send ${ms(spent.send)}, yield ${ms(spent.yield)}`);
      return { progress: { ...progress, status: 'COMPLETED', code: 'COMPLETED' }, conflict: null };
    } catch (e) {
      if (!(e instanceof UniqueConflictError)) throw e;
      // The batches after the checkpoint are undone, their result lines with them (they commit
      // together): the next pass reads their rows again.
      return { progress: committedProgress, conflict: e };
    } finally {
      // A failed batch must not leave a commit running behind the job's end.
      await Promise.all(inFlight);
      zip.close();
    }
  }

  /**
   * Moves into the store the result lines that an earlier version appended to a file beside it
   * (`results/<job>/<i>.csv`) and that the resource's checkpoint counts, so that a job paused by
   * that version resumes and zips with them. One commit (the store cuts it into chunks), then the
   * file goes; a crash in between commits the same bytes again, which changes nothing. A file no
   * checkpoint counts (only its header was written) just goes.
   */
  private async adoptLegacyLines(job: Job, index: number, workerId: string, progress: ResourceProgress): Promise<void> {
    const key = legacyResultKey(job.id, index);
    const size = await this.o.blobs.size(key);
    if (size === null) return;
    if (progress.resultBytes === 0) {
      await this.o.blobs.delete(key);
      return;
    }
    if (size < progress.resultBytes) throw new JobFailure(`${key} holds ${size} bytes, fewer than the ${progress.resultBytes} its checkpoint counts`);
    const parts: Buffer[] = [];
    for await (const part of this.o.blobs.createReadStream(key, { start: 0, end: progress.resultBytes - 1 })) parts.push(part as Buffer);
    await this.commitLinesAlone(job, index, workerId, progress, Buffer.concat(parts));
    await this.o.blobs.delete(key);
  }

  /**
   * Result lines that go before any batch's (a header, an earlier version's lines), committed on
   * their own so that a rerun commits the same bytes at the same place, a no-op, rather than
   * another batch's. `progress` already counts them.
   */
  private async commitLinesAlone(job: Job, index: number, workerId: string, progress: ResourceProgress, lines: ResultPart): Promise<void> {
    const { spec } = job.resources[index] as Job['resources'][number];
    await this.o.store.commitBatch({
      jobId: job.id, workerId, resourceIndex: index, moduleId: spec.moduleId, userId: job.createdBy.id,
      inserts: NO_ROWS, updates: NO_ROWS, progress, resultLines: lines, continues: null, leaseMs: this.o.leaseMs, now: new Date(),
    });
  }

  renderFinal(job: Job, timeZone: string): string {
    return JSON.stringify(renderJobDetails(job, { timeZone, downloadUrl: this.o.downloadUrl(job) }));
  }
}

function withProgress(job: Job, index: number, progress: ResourceProgress): Job {
  return { ...job, resources: job.resources.map((r, k) => (k === index ? { ...r, progress } : r)) };
}
