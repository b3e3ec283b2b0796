import { randomInt } from 'node:crypto';
import Database from 'better-sqlite3';
import { composeId, ID_COUNTER_SPAN } from '../../domain/ids.js';
import type { Job, ResourceProgress, ResourceSpec } from '../../domain/job.js';
import type { ModuleDef } from '../../domain/metadata.js';
import type { SchemaPlan } from '../../domain/schema.js';
import {
  CheckpointMovedError,
  LeaseLostError,
  UniqueConflictError,
  type AccessToken,
  type BatchCommit,
  type CallbackAttempt,
  type CallbackClaim,
  type CallbackDelivery,
  type ClaimedJob,
  type ClaimOptions,
  type JobEnd,
  type NewOrg,
  type OAuthClient,
  type OAuthGrant,
  type Org,
  type RecordQuery,
  type ResultPart,
  type Store,
  type RecordKeys,
  type StoredRecord,
  type UploadedFile,
  type User,
} from '../../ports/store.js';
import { CommitThread } from '../commit-thread.js';
import { jobFromRows } from '../job-rows.js';
import { pagedChunks, RESULT_CHUNKS_PER_PAGE, resultParts, resultPieces, type ResultChunk } from '../result-chunks.js';
import { SqliteCallbackQueue } from './sqlite-callback-queue.js';
import { SqliteAccounts } from './sqlite-accounts.js';
import { SqliteCatalog } from './sqlite-catalog.js';
import { SqliteConnection } from './sqlite-connection.js';
import { isSqliteUnavailable } from './sqlite-errors.js';

type Row = Record<string, unknown>;
/** A `PRAGMA wal_checkpoint` row: whether it was blocked, the WAL's frames, and those copied. */
type WalCheckpoint = { busy: number; log: number; checkpointed: number };
const ID_BLOCK = 10_000;
const str = (v: unknown): string => String(v);
const optDate = (v: unknown): Date | null => (v === null || v === undefined ? null : new Date(Number(v)));

/** The embedded default store: one SQLite file in WAL mode (better-sqlite3, synchronous calls). */
export class SqliteStore implements Store {
  readonly singleHost = true;
  readonly writesRecordLines = false;
  readonly isUnavailable = isSqliteUnavailable;
  private readonly c: SqliteConnection;
  private readonly accounts: SqliteAccounts;
  private readonly catalog: SqliteCatalog;
  private idPrefix = 0;
  /** Ids reserved for this connection: next to hand out and one past the last. */
  /** Counters below 10^12 are exact as doubles: no BigInt per id. */
  private idBlock = { next: 0, end: 0 };
  /** The block after `idBlock`, reserved by a batch's commit ahead of need (commitBatch). */
  private nextIdBlock: { next: number; end: number } | null = null;
  private idsReserving = false;
  private readonly writer: CommitThread | null;
  private readonly callbacks: SqliteCallbackQueue;
  private readonly jobsRead: (jobId: string, load: () => Job | null) => Job | null;

  /**
   * @param options.writerThread commit record batches on a thread of their own, so that the job's
   * next batch is validated while the last one is written (both cores; see bench/).
   */
  constructor(
    private readonly file: string,
    options: { writerThread?: boolean; cacheMb?: number } = {},
  ) {
    this.c = new SqliteConnection(file, options.cacheMb ?? 8);
    this.jobsRead = this.c.readCache();
    this.accounts = new SqliteAccounts(this.c);
    this.catalog = new SqliteCatalog(this.c, (n) => this.allocateIdsSync(n));
    // OR IGNORE, then read back: of processes opening a new data dir together, the first one's prefix wins.
    this.c.sql("INSERT OR IGNORE INTO meta (key, value) VALUES ('id_prefix', ?), ('id_counter', '1000000')").run(String(randomInt(1_000_000, 9_000_000)));
    this.idPrefix = Number((this.c.sql("SELECT value FROM meta WHERE key = 'id_prefix'").get() as Row).value);
    this.c.sql("INSERT OR IGNORE INTO meta (key, value) VALUES ('metadata_version', '0')").run();
    this.callbacks = new SqliteCallbackQueue(this.c.db);
    this.writer = options.writerThread ? new CommitThread({ kind: 'sqlite', file }) : null;
  }

  /** Settles once the commit thread, if the store has one, has opened its connection (CommitThread.ready). */
  whenStarted(): Promise<void> {
    return this.writer?.ready ?? Promise.resolve();
  }

  listOrgs = (): Promise<Org[]> => this.accounts.listOrgs();
  getOrg = (orgId: string): Promise<Org | null> => this.accounts.getOrg(orgId);
  getUser = (orgId: string, userId: string): Promise<User | null> => this.accounts.getUser(orgId, userId);
  listUsers = (orgId: string): Promise<User[]> => this.accounts.listUsers(orgId);
  saveToken = (t: AccessToken): Promise<void> => this.accounts.saveToken(t);
  findToken = (hash: string): Promise<AccessToken | null> => this.accounts.findToken(hash);
  listTokens = (orgId: string): Promise<AccessToken[]> => this.accounts.listTokens(orgId);
  revokeToken = (hash: string, at: Date): Promise<boolean> => this.accounts.revokeToken(hash, at);
  saveOAuthClient = (c: OAuthClient): Promise<void> => this.accounts.saveOAuthClient(c);
  findOAuthClient = (id: string): Promise<OAuthClient | null> => this.accounts.findOAuthClient(id);
  saveOAuthGrant = (g: OAuthGrant): Promise<void> => this.accounts.saveOAuthGrant(g);
  findOAuthGrant = (hash: string): Promise<OAuthGrant | null> => this.accounts.findOAuthGrant(hash);
  useOAuthGrant = (hash: string, at: Date): Promise<boolean> => this.accounts.useOAuthGrant(hash, at);
  saveFile = (f: UploadedFile): Promise<void> => this.accounts.saveFile(f);
  getFile = (orgId: string, fileId: string): Promise<UploadedFile | null> => this.accounts.getFile(orgId, fileId);

  listModules = (orgId: string): Promise<ModuleDef[]> => this.catalog.listModules(orgId);
  applySchema = (orgId: string, plan: SchemaPlan): Promise<void> => this.catalog.applySchema(orgId, plan);
  addPicklistValues = (moduleId: string, field: string, values: readonly string[]): Promise<void> => this.catalog.addPicklistValues(moduleId, field, values);

  /**
   * What the commit thread does once no batch has come for a while (store/idle-checkpoint.ts):
   * copies the WAL's committed pages into the database file without waiting for anyone (PASSIVE),
   * after syncing the WAL, which makes everything committed before it survive an OS crash. True
   * once every page is copied; the next write then starts the WAL over, and cuts its file back to
   * journal_size_limit. (Emptying the file here as well, with TRUNCATE, slowed the job after it:
   * docs/performance.md.)
   */
  checkpointIdle(): boolean {
    const [copy] = this.c.db.pragma('wal_checkpoint(PASSIVE)') as WalCheckpoint[];
    return copy !== undefined && copy.busy === 0 && copy.checkpointed === copy.log;
  }

  async close(): Promise<void> {
    try {
      await this.writer?.close();
    } finally {
      this.c.db.close();
    }
  }

  readStamp(): object {
    return this.c.readStamp();
  }

  async allocateIds(count: number): Promise<string[]> {
    return this.allocateIdsSync(count);
  }

  /**
   * Ids come from blocks reserved in the meta table, so that a job asks for them once per 10,000
   * records rather than once per batch: that write would otherwise queue behind the writer
   * thread's commits. Ids of a block left unused when a process stops are never handed out.
   */
  private allocateIdsSync(count: number): string[] {
    if (this.idBlock.end - this.idBlock.next < count) {
      const ahead = this.nextIdBlock;
      if (ahead && ahead.end - ahead.next >= count) {
        this.idBlock = ahead;
        this.nextIdBlock = null;
      } else {
        const size = Math.max(count, ID_BLOCK);
        const end = this.c.writeSoon(() => this.reserveIds(size));
        this.idBlock = { next: end - size, end };
      }
    }
    const ids: string[] = new Array(count);
    for (let i = 0; i < count; i++) ids[i] = composeId(this.idPrefix, this.idBlock.next++);
    return ids;
  }

  /** Takes `size` ids off the counter (a write); returns one past the last. */
  private reserveIds(size: number): number {
    const reserve = this.c.sql("UPDATE meta SET value = CAST(value AS INTEGER) + ? WHERE key = 'id_counter' RETURNING value");
    // As a BigInt: a JavaScript number binds as REAL, and the counter would become 1010000.0.
    const end = BigInt(str((reserve.get(BigInt(size)) as Row).value)) + 1n;
    if (end > ID_COUNTER_SPAN) throw new Error('id space exhausted');
    return Number(end);
  }

  async createOrg(input: NewOrg, options: { readonly onlyIfFirst?: boolean } = {}): Promise<boolean> {
    // IMMEDIATE: the check and the insert happen under the write lock, so one of two processes starting together creates the org.
    const created = this.c.db.transaction(() => {
      if (options.onlyIfFirst && this.c.sql('SELECT 1 FROM orgs LIMIT 1').get()) return false;
      const { org, admin } = input;
      this.c.sql('INSERT INTO orgs (id, name, time_zone, created_at) VALUES (?, ?, ?, ?)').run(org.id, org.name, org.timeZone, Date.now());
      this.c
        .sql('INSERT INTO users (id, org_id, name, email, role, active) VALUES (?, ?, ?, ?, ?, ?)')
        .run(admin.id, org.id, admin.name, admin.email, admin.role, admin.active ? 1 : 0);
      for (const spec of input.modules) this.catalog.createModuleSync(org.id, spec, false);
      this.catalog.ensureNameKeysSync(org.id);
      this.catalog.bumpMetadata();
      return true;
    }).immediate();
    this.catalog.forgetModules(input.org.id);
    return created;
  }

  async createJob(job: Job): Promise<void> {
    this.c.db.transaction(() => {
      this.c
        .sql(
          `INSERT INTO jobs (id, org_id, created_by_id, created_by_name, created_at, operation, ignore_empty, requested_encoding,
            callback_url, status, specs) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(job.id, job.orgId, job.createdBy.id, job.createdBy.name, job.createdTime.getTime(), job.operation, job.ignoreEmpty ? 1 : 0,
          job.requestedEncoding, job.callback?.url ?? null, job.status, JSON.stringify(job.resources.map((r) => r.spec)));
      const insert = this.c.sql(
        `INSERT INTO job_resources (job_id, idx, status, code, added, updated, skipped, rows_done, result_bytes)
         VALUES (?, ?, ?, ?, 0, 0, 0, 0, 0)`,
      );
      job.resources.forEach((r, i) => insert.run(job.id, i, r.progress.status, r.progress.code));
    }).immediate();
  }

  async getJob(orgId: string, jobId: string): Promise<Job | null> {
    // By id alone (ids are unique across orgs); the org is checked on the way out.
    const job = this.jobsRead(jobId, () => this.c.db.transaction(() => {
      const r = this.c.sql('SELECT * FROM jobs WHERE id = ?').get(jobId) as Row | undefined;
      return r ? this.toJob(r) : null;
    })());
    return job?.orgId === orgId ? job : null;
  }

  async listJobs(orgId: string, limit: number): Promise<Job[]> {
    return this.c.db.transaction(() => {
      const rows = this.c.sql('SELECT * FROM jobs WHERE org_id = ? ORDER BY created_at DESC, id DESC LIMIT ?').all(orgId, limit) as Row[];
      return rows.map((r) => this.toJob(r));
    })();
  }

  async claimJob(workerId: string, leaseMs: number, now: Date, options: ClaimOptions = {}): Promise<ClaimedJob | null> {
    const { ownerGone, sharing = false } = options;
    const t = now.getTime();
    const holders = ownerGone
      ? (this.c.sql("SELECT DISTINCT lease_owner FROM jobs WHERE status IN ('ADDED', 'INPROGRESS') AND lease_owner IS NOT NULL AND lease_expires_at >= ?").all(t) as Row[])
      : [];
    const gone = holders.map((r) => str(r.lease_owner)).filter((owner) => ownerGone?.(owner) === true);
    // IMMEDIATE: under the write lock from the start, two processes cannot both take the row read.
    return this.c.db.transaction(() => {
      // An ADDED job that is leased is being started by its claimant; only an expired lease, or its holder's death, frees it.
      const r = this.c.sql(
        `SELECT id, interrupted_runs + (lease_owner IS NOT NULL) AS interrupted FROM jobs WHERE status IN ('ADDED', 'INPROGRESS')
           AND (lease_expires_at IS NULL OR lease_expires_at < ? OR lease_owner IN (SELECT value FROM json_each(?)))
         ORDER BY created_at, id LIMIT 1`,
      ).get(t, JSON.stringify(gone)) as Row | undefined;
      if (!r || (sharing && Number(r.interrupted) > 0)) return null;
      this.c
        .sql('UPDATE jobs SET interrupted_runs = interrupted_runs + (lease_owner IS NOT NULL), lease_owner = ?, lease_expires_at = ? WHERE id = ?')
        .run(workerId, t + leaseMs, r.id);
      const row = this.c.sql('SELECT * FROM jobs WHERE id = ?').get(r.id) as Row;
      return { ...this.toJob(row), interruptedRuns: Number(row.interrupted_runs) };
    }).immediate();
  }

  async renewLease(jobId: string, workerId: string, leaseMs: number, now: Date): Promise<boolean> {
    return (
      this.c.sql('UPDATE jobs SET lease_expires_at = ? WHERE id = ? AND lease_owner = ?').run(now.getTime() + leaseMs, jobId, workerId)
        .changes === 1
    );
  }

  async releaseLease(jobId: string, workerId: string, notBefore?: Date): Promise<void> {
    // A released job whose lease_expires_at is ahead waits for it: claims take only expired leases.
    this.c
      .sql('UPDATE jobs SET lease_owner = NULL, lease_expires_at = ? WHERE id = ? AND lease_owner = ?')
      .run(notBefore?.getTime() ?? null, jobId, workerId);
  }

  async startResource(jobId: string, workerId: string, resourceIndex: number, characterEncoding: string): Promise<void> {
    this.c.db.transaction(() => {
      const changed = this.c
        .sql("UPDATE jobs SET status = 'INPROGRESS', character_encoding = ? WHERE id = ? AND lease_owner = ?")
        .run(characterEncoding, jobId, workerId).changes;
      if (changed !== 1) throw new LeaseLostError(jobId);
      this.c
        .sql("UPDATE job_resources SET status = 'INPROGRESS', code = 'INPROGRESS' WHERE job_id = ? AND idx = ?")
        .run(jobId, resourceIndex);
    }).immediate();
  }

  /**
   * Through the commit thread, a batch's commit also reserves the job thread's next block of ids
   * once half of its block is handed out: a reservation of its own is a write, and it waited for
   * the write lock behind the commit thread's batches (~0.6 s per 1M-row insert, its thread
   * blocked; the job thread's profile). The block comes back with the commit's answer; a failed
   * commit reserves nothing, and ids are taken as before if the block has not come when needed.
   */
  commitBatch(b: BatchCommit): Promise<void> {
    if (!this.writer) {
      return new Promise((resolve) => {
        this.commitBatchSync(b);
        resolve();
      });
    }
    // Not an async function: one would hold the batch (its parameter) until the commit's answer.
    const reserve = this.idsToReserve();
    if (reserve === 0) return this.writer.commit(b).then(() => undefined);
    this.idsReserving = true;
    return this.writer.commit(b, reserve).then(
      (end) => {
        this.idsReserving = false;
        if (end !== null) this.nextIdBlock = { next: end - reserve, end };
      },
      (e: unknown) => {
        this.idsReserving = false;
        throw e;
      },
    );
  }

  /** How many ids the next commit should reserve: a block, when this connection hands ids out and its block is half gone. */
  private idsToReserve(): number {
    const { next, end } = this.idBlock;
    return end > 0 && end - next < ID_BLOCK / 2 && this.nextIdBlock === null && !this.idsReserving ? ID_BLOCK : 0;
  }

  /** The commit thread's side of commitBatch: the batch, and `count` ids reserved in its transaction; returns one past the last. */
  commitBatchReserving(b: BatchCommit, count: number): number {
    return this.commitBatchSync(b, count) as number;
  }

  /**
   * One transaction: the lease check, the records, the counters and the checkpoint. IMMEDIATE, as
   * every transaction here that writes: one begun deferred reads first (the catalog), and a commit
   * by another connection before its first write fails it at once (SQLITE_BUSY_SNAPSHOT, which
   * the busy timeout does not wait out).
   */
  commitBatchSync(b: BatchCommit, reserveIds = 0): number | null {
    // Such rows carry no values but their keys: written here, they would be empty records.
    if (b.inserts.lines) throw new Error('SQLite takes no record lines (writesRecordLines is false)');
    try {
      return this.commitBatchTransaction(b, reserveIds);
    } catch (e) {
      // A record's unique index, not an id: ids are allocated, never reused.
      if ((e as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new UniqueConflictError((e as Error).message);
      throw e;
    }
  }

  private commitBatchTransaction(b: BatchCommit, reserveIds: number): number | null {
    return this.c.db.transaction(() => {
      // The table's layout is read inside the transaction, so a schema change committed just
      // before cannot leave a new key column unfilled.
      const table = this.catalog.recordTable(b.moduleId);
      this.holdLease(b.jobId, b.workerId, b.now.getTime() + b.leaseMs);
      // Updates first: a unique value an update frees may be taken by an insert of the same batch
      // (the batch processor folds updates of records it inserts into their inserts).
      table.update(b.updates);
      table.insert(b.inserts);
      this.writeProgress(b.jobId, b.resourceIndex, b.progress, b.continues);
      const insertChunk = this.c.sql('INSERT INTO result_chunks (job_id, idx, pos, data, raw_bytes, crc) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING');
      for (const c of resultPieces(b.resultLines, b.progress.resultBytes)) insertChunk.run(b.jobId, b.resourceIndex, c.pos, c.data, c.rawBytes, c.crc);
      return reserveIds > 0 ? this.reserveIds(reserveIds) : null;
    }).immediate();
  }

  /**
   * Read on a connection of its own with a small page cache: through this one's, a large job's
   * result pages filled the cache a job thread otherwise leaves empty (+8 MB of peak memory).
   */
  readResult(jobId: string, resourceIndex: number, bytes: number): AsyncGenerator<ResultPart> {
    // Opened at the first read, so that a stream never read holds no connection.
    let db: Database.Database | null = null;
    const page = async (from: number): Promise<ResultChunk[]> => {
      if (!db) {
        db = new Database(this.file, { readonly: true, fileMustExist: true });
        db.pragma('cache_size = -512');
      }
      return db
        .prepare('SELECT pos, data, raw_bytes AS rawBytes, crc FROM result_chunks WHERE job_id = ? AND idx = ? AND pos >= ? ORDER BY pos LIMIT ?')
        .all(jobId, resourceIndex, from, RESULT_CHUNKS_PER_PAGE) as ResultChunk[];
    };
    return resultParts(pagedChunks(page), bytes, () => {
      if (db?.open) db.close();
    });
  }

  async finishResource(
    jobId: string,
    workerId: string,
    resourceIndex: number,
    progress: ResourceProgress,
    job: JobEnd | null,
  ): Promise<void> {
    this.c.db.transaction(() => {
      this.holdLease(jobId, workerId, null);
      this.writeProgress(jobId, resourceIndex, progress);
      if (job) {
        this.c
          .sql('UPDATE jobs SET status = ?, result_key = ?, failure = ?, finished_at = ?, lease_owner = NULL, lease_expires_at = NULL WHERE id = ?')
          .run(job.status, job.resultKey, job.failure, job.at.getTime(), jobId);
        if (job.status === 'FAILED') {
          this.c.sql("UPDATE job_resources SET status = 'SKIPPED', code = 'SKIPPED' WHERE job_id = ? AND status = 'ADDED'").run(jobId);
        }
        if (job.callback) this.callbacks.enqueue(job.callback);
        this.c.sql('DELETE FROM result_chunks WHERE job_id = ?').run(jobId);
      }
    }).immediate();
  }

  private holdLease(jobId: string, workerId: string, expiresAt: number | null): void {
    // A batch's commit (expiresAt set) is the run's progress: the job's interrupted runs start again.
    const sql = expiresAt === null
      ? 'UPDATE jobs SET lease_owner = lease_owner WHERE id = ? AND lease_owner = ?'
      : 'UPDATE jobs SET lease_expires_at = ?, interrupted_runs = 0 WHERE id = ? AND lease_owner = ?';
    const params = expiresAt === null ? [jobId, workerId] : [expiresAt, jobId, workerId];
    if (this.c.sql(sql).run(params).changes !== 1) throw new LeaseLostError(jobId);
  }

  /** @param continues when not null, the checkpoint must be at this result byte (BatchCommit.continues). */
  private writeProgress(jobId: string, idx: number, p: ResourceProgress, continues: number | null = null): void {
    const changed = this.c
      .sql(
        `UPDATE job_resources SET status = ?, code = ?, added = ?, updated = ?, skipped = ?, rows_done = ?, result_bytes = ?
         WHERE job_id = ? AND idx = ? AND (? IS NULL OR result_bytes = ?)`,
      )
      .run(p.status, p.code, p.counts.added, p.counts.updated, p.counts.skipped, p.rowsDone, p.resultBytes, jobId, idx, continues, continues).changes;
    if (changed !== 1 && continues !== null) throw new CheckpointMovedError(jobId, idx, continues);
  }

  async findRecords(moduleId: string, field: string, keys: readonly string[], columns: readonly string[]): Promise<StoredRecord[]> {
    return keys.length === 0 ? [] : this.catalog.recordTable(moduleId).find(field, keys, columns);
  }

  async findKeys(moduleId: string, field: string, keys: readonly string[], keyFields: readonly string[]): Promise<RecordKeys[]> {
    return keys.length === 0 ? [] : this.catalog.recordTable(moduleId).findKeys(field, keys, keyFields);
  }

  async getRecord(moduleId: string, recordId: string): Promise<StoredRecord | null> {
    return this.catalog.recordTable(moduleId).get(recordId);
  }

  async countRecords(moduleId: string): Promise<number> {
    return this.catalog.recordTable(moduleId).count();
  }

  async listRecords(moduleId: string, query: RecordQuery): Promise<StoredRecord[]> {
    return this.catalog.recordTable(moduleId).list(query);
  }

  async claimCallbacks(claim: CallbackClaim, now: Date, limit: number): Promise<CallbackDelivery[]> {
    return this.callbacks.claim(claim, now, limit);
  }

  async recordCallbackAttempt(id: string, owner: string, attempt: CallbackAttempt): Promise<void> {
    this.callbacks.record(id, owner, attempt);
  }

  async releaseCallback(id: string, owner: string): Promise<void> {
    this.callbacks.release(id, owner);
  }

  async countPendingCallbacks(): Promise<number> {
    return this.callbacks.countPending();
  }

  /**
   * Call inside a transaction (one snapshot): between two plain reads a worker thread's commit could
   * show the job INPROGRESS and its last resource already COMPLETED.
   */
  private toJob(r: Row): Job {
    const progressRows = this.c.sql('SELECT * FROM job_resources WHERE job_id = ? ORDER BY idx').all(r.id) as Row[];
    return jobFromRows(r, JSON.parse(str(r.specs)) as ResourceSpec[], progressRows, { date: optDate, flag: (v) => v === 1 });
  }
}

