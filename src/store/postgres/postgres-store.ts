import type pg from 'pg';
import type { Job, ResourceProgress } from '../../domain/job.js';
import type { ModuleDef } from '../../domain/metadata.js';
import type { SchemaPlan } from '../../domain/schema.js';
import type {
  AccessToken,
  BatchCommit,
  CallbackAttempt,
  CallbackClaim,
  CallbackDelivery,
  ClaimedJob,
  ClaimOptions,
  JobEnd,
  JoinedResultPart,
  NewOrg,
  OAuthClient,
  OAuthGrant,
  Org,
  RecordKeys,
  RecordQuery,
  ResultChunkInfo,
  ResultPart,
  Store,
  StoredRecord,
  UploadedFile,
  User,
} from '../../ports/store.js';
import { writeGeneration } from '../../blob/pg/pg-blob-store.js';
import { PgIdAllocator } from './id-allocator.js';
import { PgJobQueue } from './job-queue.js';
import { FIRST_ORG_LOCK, migrate } from './migrations.js';
import { PgCallbackQueue } from './pg-callback-queue.js';
import { PgModuleCatalog } from './module-catalog.js';
import { CommitThread } from '../commit-thread.js';
import { isPgUnavailable } from './pg-errors.js';
import { withTransaction } from './pg-pool.js';

type Row = Record<string, unknown>;
const str = (v: unknown): string => String(v);
const optDate = (v: unknown): Date | null => (v === null || v === undefined ? null : (v as Date));

/**
 * The store for many processes on one PostgreSQL (`--database-url`), with the semantics of
 * SqliteStore method by method. Jobs live in PgJobQueue, modules and records in PgModuleCatalog.
 */
export class PostgresStore implements Store {
  readonly singleHost = false;
  readonly writesRecordLines = true;
  readonly isUnavailable = isPgUnavailable;
  private readonly callbacks: PgCallbackQueue;
  /** Per job, the last commit sent, settled either way: the next one starts after it. */
  private readonly commitsOfJob = new Map<string, Promise<void>>();

  private constructor(
    private readonly pool: pg.Pool,
    private readonly ids: PgIdAllocator,
    private readonly catalog: PgModuleCatalog,
    private readonly jobs: PgJobQueue,
    private readonly committer: CommitThread | null,
  ) {
    this.callbacks = new PgCallbackQueue(pool);
  }

  /**
   * Applies pending migrations, then opens the store on `pool`, which it closes on close().
   * @param options.commitThreadUrl commit record batches on a thread of their own, connected to
   * this URL (the pool's database): the job thread uses it (CommitThread says why).
   */
  static async open(pool: pg.Pool, options: { commitThreadUrl?: string } = {}): Promise<PostgresStore> {
    await migrate(pool);
    return PostgresStore.openMigrated(pool, options);
  }

  /** Opens the store on a database whose migrations another store of this process applied. */
  static async openMigrated(pool: pg.Pool, options: { commitThreadUrl?: string } = {}): Promise<PostgresStore> {
    const ids = await PgIdAllocator.open(pool);
    const catalog = new PgModuleCatalog(pool, ids);
    const committer = options.commitThreadUrl ? new CommitThread({ kind: 'postgres', url: options.commitThreadUrl }) : null;
    await committer?.ready;
    return new PostgresStore(pool, ids, catalog, new PgJobQueue(pool, catalog), committer);
  }

  async close(): Promise<void> {
    try {
      await this.committer?.close();
    } finally {
      await this.pool.end();
    }
  }

  /** PostgreSQL has no cheap way to tell that nothing changed: every read asks the server. */
  readStamp(): null {
    return null;
  }

  allocateIds(count: number): Promise<string[]> {
    return this.ids.allocate(this.pool, count);
  }

  async listOrgs(): Promise<Org[]> {
    return (await this.pool.query<Row>('SELECT * FROM orgs ORDER BY created_at, seq')).rows.map(toOrg);
  }

  async getOrg(orgId: string): Promise<Org | null> {
    const r = (await this.pool.query<Row>('SELECT * FROM orgs WHERE id = $1', [orgId])).rows[0];
    return r ? toOrg(r) : null;
  }

  async createOrg(input: NewOrg, options: { readonly onlyIfFirst?: boolean } = {}): Promise<boolean> {
    const { org, admin } = input;
    return withTransaction(this.pool, async (c) => {
      if (options.onlyIfFirst) {
        // Processes starting together on an empty database take turns here; the later ones then see the first one's org.
        await c.query('SELECT pg_advisory_xact_lock($1, $2)', [...FIRST_ORG_LOCK]);
        if ((await c.query('SELECT 1 FROM orgs LIMIT 1')).rowCount !== 0) return false;
      }
      await c.query('INSERT INTO orgs (id, name, time_zone, created_at) VALUES ($1, $2, $3, $4)', [org.id, org.name, org.timeZone, new Date()]);
      await c.query('INSERT INTO users (id, org_id, name, email, role, active) VALUES ($1, $2, $3, $4, $5, $6)', [
        admin.id, org.id, admin.name, admin.email, admin.role, admin.active,
      ]);
      for (const spec of input.modules) await this.catalog.createModule(c, org.id, spec, false);
      await this.catalog.ensureNameKeys(c, org.id);
      await this.catalog.bumpVersion(c);
      return true;
    });
  }

  applySchema(orgId: string, plan: SchemaPlan): Promise<void> {
    return this.catalog.applySchema(orgId, plan);
  }

  addPicklistValues(moduleId: string, fieldApiName: string, values: readonly string[]): Promise<void> {
    return this.catalog.addPicklistValues(moduleId, fieldApiName, values);
  }

  listModules(orgId: string): Promise<ModuleDef[]> {
    return this.catalog.listModules(orgId);
  }

  async getUser(orgId: string, userId: string): Promise<User | null> {
    const r = (await this.pool.query<Row>('SELECT * FROM users WHERE org_id = $1 AND id = $2', [orgId, userId])).rows[0];
    return r ? toUser(r) : null;
  }

  async listUsers(orgId: string): Promise<User[]> {
    return (await this.pool.query<Row>('SELECT * FROM users WHERE org_id = $1 ORDER BY id', [orgId])).rows.map(toUser);
  }

  async saveToken(t: AccessToken): Promise<void> {
    await this.pool.query(
      'INSERT INTO tokens (hash, org_id, user_id, scopes, label, created_at, expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
      [t.hash, t.orgId, t.userId, [...t.scopes], t.label, t.createdAt, t.expiresAt, t.revokedAt],
    );
  }

  async findToken(hash: string): Promise<AccessToken | null> {
    const r = (await this.pool.query<Row>('SELECT * FROM tokens WHERE hash = $1', [hash])).rows[0];
    return r ? toToken(r) : null;
  }

  async listTokens(orgId: string): Promise<AccessToken[]> {
    return (await this.pool.query<Row>('SELECT * FROM tokens WHERE org_id = $1 ORDER BY created_at', [orgId])).rows.map(toToken);
  }

  async revokeToken(hash: string, at: Date): Promise<boolean> {
    return (await this.pool.query('UPDATE tokens SET revoked_at = $1 WHERE hash = $2 AND revoked_at IS NULL', [at, hash])).rowCount === 1;
  }

  async saveOAuthClient(c: OAuthClient): Promise<void> {
    await this.pool.query('INSERT INTO oauth_clients (id, secret_hash, org_id, user_id, name, created_at) VALUES ($1, $2, $3, $4, $5, $6)', [
      c.id, c.secretHash, c.orgId, c.userId, c.name, c.createdAt,
    ]);
  }

  async findOAuthClient(id: string): Promise<OAuthClient | null> {
    const r = (await this.pool.query<Row>('SELECT * FROM oauth_clients WHERE id = $1', [id])).rows[0];
    return r
      ? { id: str(r.id), secretHash: str(r.secret_hash), orgId: str(r.org_id), userId: str(r.user_id), name: str(r.name), createdAt: r.created_at as Date }
      : null;
  }

  async saveOAuthGrant(g: OAuthGrant): Promise<void> {
    await this.pool.query(
      'INSERT INTO oauth_grants (hash, kind, client_id, scopes, expires_at, used_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
      [g.hash, g.kind, g.clientId, [...g.scopes], g.expiresAt, g.usedAt, g.createdAt],
    );
  }

  async findOAuthGrant(hash: string): Promise<OAuthGrant | null> {
    const r = (await this.pool.query<Row>('SELECT * FROM oauth_grants WHERE hash = $1', [hash])).rows[0];
    return r
      ? {
          hash: str(r.hash), kind: str(r.kind) as OAuthGrant['kind'], clientId: str(r.client_id), scopes: r.scopes as string[],
          expiresAt: optDate(r.expires_at), usedAt: optDate(r.used_at), createdAt: r.created_at as Date,
        }
      : null;
  }

  async useOAuthGrant(hash: string, at: Date): Promise<boolean> {
    return (await this.pool.query('UPDATE oauth_grants SET used_at = $1 WHERE hash = $2 AND used_at IS NULL', [at, hash])).rowCount === 1;
  }

  async saveFile(f: UploadedFile): Promise<void> {
    await this.pool.query(
      `INSERT INTO files (id, org_id, user_id, blob_key, size, sha256, upload_name, csv_name, header, delimiter, encoding, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [f.id, f.orgId, f.userId, f.blobKey, f.size, f.sha256, f.uploadName, f.csvName, [...f.header], f.delimiter, f.encoding, f.createdTime],
    );
  }

  async getFile(orgId: string, fileId: string): Promise<UploadedFile | null> {
    const r = (await this.pool.query<Row>('SELECT * FROM files WHERE org_id = $1 AND id = $2', [orgId, fileId])).rows[0];
    if (!r) return null;
    return {
      id: str(r.id), orgId: str(r.org_id), userId: str(r.user_id), blobKey: str(r.blob_key), size: Number(r.size),
      sha256: str(r.sha256), uploadName: str(r.upload_name), csvName: str(r.csv_name), header: r.header as string[],
      delimiter: str(r.delimiter), encoding: str(r.encoding), createdTime: r.created_at as Date,
    };
  }

  createJob(job: Job): Promise<void> {
    return this.jobs.createJob(job);
  }

  getJob(orgId: string, jobId: string): Promise<Job | null> {
    return this.jobs.getJob(orgId, jobId);
  }

  listJobs(orgId: string, limit: number): Promise<Job[]> {
    return this.jobs.listJobs(orgId, limit);
  }

  claimJob(workerId: string, leaseMs: number, now: Date, options?: ClaimOptions): Promise<ClaimedJob | null> {
    return this.jobs.claimJob(workerId, leaseMs, now, options);
  }

  renewLease(jobId: string, workerId: string, leaseMs: number, now: Date): Promise<boolean> {
    return this.jobs.renewLease(jobId, workerId, leaseMs, now);
  }

  releaseLease(jobId: string, workerId: string, notBefore?: Date): Promise<void> {
    return this.jobs.releaseLease(jobId, workerId, notBefore);
  }

  startResource(jobId: string, workerId: string, resourceIndex: number, characterEncoding: string): Promise<void> {
    return this.jobs.startResource(jobId, workerId, resourceIndex, characterEncoding);
  }

  commitBatch(batch: BatchCommit): Promise<void> {
    if (this.committer) return this.committer.commit(batch).then(() => undefined);
    // Each on a connection of its own from the pool: a job's next batch waits for the one before
    // it, or it could commit first (and be refused: it continues from a checkpoint not there yet).
    // Built now, sent once the one before is answered (PgJobQueue.prepareCommit).
    const prepared = this.jobs.prepareCommit(batch);
    prepared.catch(() => undefined);
    const before = this.commitsOfJob.get(batch.jobId) ?? Promise.resolve();
    const commit = before.then(async () => (await prepared)());
    const settled = commit.then(
      () => undefined,
      () => undefined,
    );
    this.commitsOfJob.set(batch.jobId, settled);
    void settled.then(() => {
      if (this.commitsOfJob.get(batch.jobId) === settled) this.commitsOfJob.delete(batch.jobId);
    });
    return commit;
  }

  /** The commit thread's side of commitBatch: builds the batch now, and returns what sends it. */
  prepareCommit(batch: BatchCommit): Promise<() => Promise<void>> {
    return this.jobs.prepareCommit(batch);
  }

  readResult(jobId: string, resourceIndex: number, bytes: number): AsyncGenerator<ResultPart> {
    return this.jobs.readResult(jobId, resourceIndex, bytes);
  }

  resultIndex(jobId: string, resourceIndex: number): Promise<ResultChunkInfo[]> {
    return this.jobs.resultIndex(jobId, resourceIndex);
  }

  /** Blobs are in this database whenever the store is (server.ts: PgBlobStore on the same pool). */
  writeJoinedResult(key: string, jobId: string, parts: readonly JoinedResultPart[], bytes: number): Promise<void> {
    return writeGeneration(this.pool, key, (generation) => this.jobs.joinResult(generation, jobId, parts, bytes));
  }

  finishResource(jobId: string, workerId: string, resourceIndex: number, progress: ResourceProgress, job: JobEnd | null): Promise<void> {
    return this.jobs.finishResource(jobId, workerId, resourceIndex, progress, job);
  }

  async findRecords(moduleId: string, field: string, keys: readonly string[], columns: readonly string[]): Promise<StoredRecord[]> {
    return keys.length === 0 ? [] : (await this.catalog.recordTable(moduleId)).find(this.pool, field, keys, columns);
  }

  async findKeys(moduleId: string, field: string, keys: readonly string[], keyFields: readonly string[]): Promise<RecordKeys[]> {
    return keys.length === 0 ? [] : (await this.catalog.recordTable(moduleId)).findKeys(this.pool, field, keys, keyFields);
  }

  async getRecord(moduleId: string, recordId: string): Promise<StoredRecord | null> {
    return (await this.catalog.recordTable(moduleId)).get(this.pool, recordId);
  }

  async countRecords(moduleId: string): Promise<number> {
    return (await this.catalog.recordTable(moduleId)).count(this.pool);
  }

  async listRecords(moduleId: string, query: RecordQuery): Promise<StoredRecord[]> {
    return (await this.catalog.recordTable(moduleId)).list(this.pool, query);
  }

  claimCallbacks(claim: CallbackClaim, now: Date, limit: number): Promise<CallbackDelivery[]> {
    return this.callbacks.claim(claim, now, limit);
  }

  recordCallbackAttempt(id: string, owner: string, attempt: CallbackAttempt): Promise<void> {
    return this.callbacks.record(id, owner, attempt);
  }

  releaseCallback(id: string, owner: string): Promise<void> {
    return this.callbacks.release(id, owner);
  }

  countPendingCallbacks(): Promise<number> {
    return this.callbacks.countPending();
  }
}

function toOrg(r: Row): Org {
  return { id: str(r.id), name: str(r.name), timeZone: str(r.time_zone) };
}

function toUser(r: Row): User {
  return { id: str(r.id), orgId: str(r.org_id), name: str(r.name), email: str(r.email), role: str(r.role), active: r.active === true };
}

function toToken(r: Row): AccessToken {
  return {
    hash: str(r.hash), orgId: str(r.org_id), userId: str(r.user_id), scopes: r.scopes as string[], label: str(r.label),
    createdAt: r.created_at as Date, expiresAt: optDate(r.expires_at), revokedAt: optDate(r.revoked_at),
  };
}
