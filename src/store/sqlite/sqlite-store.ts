import { randomInt } from 'node:crypto';
import { composeId, ID_COUNTER_SPAN } from '../../domain/ids.js';
import type { Job, ResourceProgress, ResourceSpec } from '../../domain/job.js';
import { foldKey, type DataType, type FieldDef, type ModuleDef } from '../../domain/metadata.js';
import type { SchemaPlan } from '../../domain/schema.js';
import type { FieldSpec, ModuleSpec } from '../../domain/standard-modules.js';
import {
  LeaseLostError,
  type AccessToken,
  type BatchCommit,
  type CallbackAttempt,
  type CallbackClaim,
  type CallbackDelivery,
  type JobEnd,
  type NewOrg,
  type OAuthClient,
  type OAuthGrant,
  type Org,
  type RecordQuery,
  type Store,
  type StoredRecord,
  type UploadedFile,
  type User,
} from '../../ports/store.js';
import { jobFromRows } from '../job-rows.js';
import { SqliteCallbackQueue } from './sqlite-callback-queue.js';
import { SqliteAccounts } from './sqlite-accounts.js';
import { SqliteConnection } from './sqlite-connection.js';
import { SqliteWriter } from './sqlite-writer.js';
import { addColumnSql, createRecordTableSql, nameKeySql, quoteIdent, RecordTable } from './record-tables.js';

type Row = Record<string, unknown>;
const ID_BLOCK = 10_000;
const str = (v: unknown): string => String(v);
const optDate = (v: unknown): Date | null => (v === null || v === undefined ? null : new Date(Number(v)));

/** The embedded default store: one SQLite file in WAL mode (better-sqlite3, synchronous calls). */
export class SqliteStore implements Store {
  readonly singleHost = true;
  private readonly c: SqliteConnection;
  private readonly accounts: SqliteAccounts;
  private readonly modulesCache = new Map<string, ModuleDef[]>();
  private readonly tables = new Map<string, RecordTable>();
  private readonly tableNames = new Map<string, string>();
  private idPrefix = 0;
  /** Ids reserved for this connection: next to hand out and one past the last. */
  private idBlock = { next: 0n, end: 0n };
  private metadataVersion = '';
  private readonly writer: SqliteWriter | null;
  private readonly callbacks: SqliteCallbackQueue;

  /**
   * @param options.writerThread commit record batches on a thread of their own, so that the job's
   * next batch is validated while the last one is written (both cores; see bench/).
   */
  constructor(
    private readonly file: string,
    options: { writerThread?: boolean; cacheMb?: number } = {},
  ) {
    this.c = new SqliteConnection(file, options.cacheMb ?? 8);
    this.accounts = new SqliteAccounts(this.c);
    // OR IGNORE, then read back: of processes opening a new data dir together, the first one's prefix wins.
    this.c.sql("INSERT OR IGNORE INTO meta (key, value) VALUES ('id_prefix', ?), ('id_counter', '1000000')").run(String(randomInt(1_000_000, 9_000_000)));
    this.idPrefix = Number((this.c.sql("SELECT value FROM meta WHERE key = 'id_prefix'").get() as Row).value);
    this.c.sql("INSERT OR IGNORE INTO meta (key, value) VALUES ('metadata_version', '0')").run();
    this.callbacks = new SqliteCallbackQueue(this.c.db);
    this.writer = options.writerThread ? new SqliteWriter(file) : null;
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

  async close(): Promise<void> {
    await this.writer?.close();
    this.c.db.close();
  }

  /** Drops cached modules and record tables when any connection changed metadata since. */
  private checkMetadata(): void {
    const v = str((this.c.sql("SELECT value FROM meta WHERE key = 'metadata_version'").get() as Row).value);
    if (v !== this.metadataVersion) {
      this.modulesCache.clear();
      this.tables.clear();
      this.metadataVersion = v;
    }
  }

  private bumpMetadata(): void {
    this.c.sql("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'metadata_version'").run();
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
    if (this.idBlock.end - this.idBlock.next < BigInt(count)) {
      const size = BigInt(Math.max(count, ID_BLOCK));
      const row = this.c
        .sql("UPDATE meta SET value = CAST(value AS INTEGER) + ? WHERE key = 'id_counter' RETURNING value")
        .get(size) as Row;
      const end = BigInt(str(row.value)) + 1n;
      if (end > ID_COUNTER_SPAN) throw new Error('id space exhausted');
      this.idBlock = { next: end - size, end };
    }
    const ids: string[] = new Array(count);
    for (let i = 0; i < count; i++) ids[i] = composeId(this.idPrefix, this.idBlock.next++);
    return ids;
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
      for (const spec of input.modules) this.createModuleSync(org.id, spec, false);
      this.ensureNameKeysSync(org.id);
      this.bumpMetadata();
      return true;
    }).immediate();
    this.modulesCache.delete(input.org.id);
    return created;
  }

  async applySchema(orgId: string, plan: SchemaPlan): Promise<void> {
    this.c.db.transaction(() => {
      this.bumpMetadata();
      for (const spec of plan.newModules) this.createModuleSync(orgId, spec, true);
      for (const { moduleApiName, field } of plan.newFields) {
        const m = this.c.sql('SELECT id, table_name FROM modules WHERE org_id = ? AND api_name = ?').get(orgId, moduleApiName) as Row;
        const position = (this.c.sql('SELECT coalesce(max(position), -1) + 1 AS p FROM fields WHERE module_id = ?').get(m.id) as Row).p;
        this.insertField(str(m.id), field, Number(position));
        for (const sql of addColumnSql(str(m.table_name), { apiName: field.apiName, dataType: field.dataType, unique: field.unique ?? false, isNameField: field.isNameField ?? false })) {
          this.c.db.exec(sql);
        }
        this.tables.delete(str(m.id));
      }
      this.ensureNameKeysSync(orgId);
    })();
    this.modulesCache.delete(orgId);
  }

  async addPicklistValues(moduleId: string, fieldApiName: string, values: readonly string[]): Promise<void> {
    this.c.db.transaction(() => {
      const row = this.c.sql('SELECT id, picklist FROM fields WHERE module_id = ? AND api_name = ?').get(moduleId, fieldApiName) as Row | undefined;
      if (!row) return;
      const current = JSON.parse(str(row.picklist)) as string[];
      const added = values.filter((v) => !current.includes(v));
      if (added.length > 0) {
        this.c.sql('UPDATE fields SET picklist = ? WHERE id = ?').run(JSON.stringify([...current, ...added]), row.id);
        this.bumpMetadata();
      }
    })();
    const org = this.c.sql('SELECT org_id FROM modules WHERE id = ?').get(moduleId) as Row | undefined;
    if (org) this.modulesCache.delete(str(org.org_id));
  }

  /** Gives the name field of every module a lookup points at its key column, filled for existing records. */
  private ensureNameKeysSync(orgId: string): void {
    const modules = this.c.sql('SELECT id, api_name, table_name FROM modules WHERE org_id = ?').all(orgId) as Row[];
    const targets = new Set(
      (this.c.sql('SELECT DISTINCT lower(f.lookup_module) AS t FROM fields f JOIN modules m ON m.id = f.module_id WHERE m.org_id = ? AND f.lookup_module IS NOT NULL')
        .all(orgId) as Row[]).map((r) => str(r.t)),
    );
    for (const m of modules.filter((x) => targets.has(str(x.api_name).toLowerCase()))) {
      const name = this.c.sql("SELECT api_name, data_type FROM fields WHERE module_id = ? AND is_name = 1 AND data_type IN ('text', 'email', 'phone', 'website', 'picklist')")
        .get(m.id) as Row | undefined;
      if (!name) continue;
      const table = str(m.table_name);
      const key = `_key_${str(name.api_name)}`;
      const columns = (this.c.db.prepare(`PRAGMA table_info(${quoteIdent(table)})`).all() as Row[]).map((c) => str(c.name));
      if (columns.includes(key)) continue;
      for (const sql of nameKeySql(table, { apiName: str(name.api_name), dataType: 'text', unique: false, isNameField: true })) this.c.db.exec(sql);
      const fill = this.c.db.prepare(`UPDATE ${quoteIdent(table)} SET ${quoteIdent(key)} = ? WHERE id = ?`);
      for (const r of this.c.db.prepare(`SELECT id, ${quoteIdent(str(name.api_name))} AS v FROM ${quoteIdent(table)}`).safeIntegers(true).all() as Row[]) {
        if (r.v !== null) fill.run(foldKey(String(r.v)), r.id);
      }
      this.tables.delete(str(m.id));
    }
  }

  private createModuleSync(orgId: string, spec: ModuleSpec, custom: boolean): void {
    const [moduleId] = this.allocateIdsSync(1) as [string];
    const table = `rec_${moduleId}`;
    this.c
      .sql('INSERT INTO modules (id, org_id, api_name, singular_label, plural_label, custom, table_name) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(moduleId, orgId, spec.apiName, spec.singularLabel, spec.pluralLabel, custom ? 1 : 0, table);
    spec.fields.forEach((f, i) => this.insertField(moduleId, f, i));
    for (const sql of createRecordTableSql(table, spec.fields.map((f) => ({ apiName: f.apiName, dataType: f.dataType, unique: f.unique ?? false, isNameField: f.isNameField ?? false })))) {
      this.c.db.exec(sql);
    }
  }

  private insertField(moduleId: string, f: FieldSpec, position: number): void {
    const [fieldId] = this.allocateIdsSync(1) as [string];
    this.c
      .sql(
        `INSERT INTO fields (id, module_id, api_name, label, data_type, length, mandatory, is_unique, read_only, lookup_module,
          picklist, is_name, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(fieldId, moduleId, f.apiName, f.label ?? f.apiName.replace(/_/g, ' '), f.dataType, f.length ?? null, f.mandatory ? 1 : 0,
        f.unique ? 1 : 0, f.readOnly ? 1 : 0, f.lookupModule ?? null, JSON.stringify(f.picklistValues ?? []), f.isNameField ? 1 : 0, position);
  }

  async listModules(orgId: string): Promise<ModuleDef[]> {
    this.checkMetadata();
    const cached = this.modulesCache.get(orgId);
    if (cached) return cached;
    const modules = (this.c.sql('SELECT * FROM modules WHERE org_id = ? ORDER BY rowid').all(orgId) as Row[]).map((m) => {
      this.tableNames.set(str(m.id), str(m.table_name));
      const fields = (this.c.sql('SELECT * FROM fields WHERE module_id = ? ORDER BY position').all(m.id) as Row[]).map(toField);
      return {
        id: str(m.id),
        apiName: str(m.api_name),
        singularLabel: str(m.singular_label),
        pluralLabel: str(m.plural_label),
        custom: m.custom === 1,
        fields,
      } satisfies ModuleDef;
    });
    this.modulesCache.set(orgId, modules);
    return modules;
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
    })();
  }

  async getJob(orgId: string, jobId: string): Promise<Job | null> {
    return this.c.cached(`job:${orgId}:${jobId}`, () => this.c.db.transaction(() => {
      const r = this.c.sql('SELECT * FROM jobs WHERE org_id = ? AND id = ?').get(orgId, jobId) as Row | undefined;
      return r ? this.toJob(r) : null;
    })());
  }

  async listJobs(orgId: string, limit: number): Promise<Job[]> {
    return this.c.db.transaction(() => {
      const rows = this.c.sql('SELECT * FROM jobs WHERE org_id = ? ORDER BY created_at DESC, id DESC LIMIT ?').all(orgId, limit) as Row[];
      return rows.map((r) => this.toJob(r));
    })();
  }

  async claimJob(workerId: string, leaseMs: number, now: Date, ownerGone?: (owner: string) => boolean): Promise<Job | null> {
    const t = now.getTime();
    const holders = ownerGone
      ? (this.c.sql("SELECT DISTINCT lease_owner FROM jobs WHERE status IN ('ADDED', 'INPROGRESS') AND lease_expires_at >= ?").all(t) as Row[])
      : [];
    const gone = holders.map((r) => str(r.lease_owner)).filter((owner) => ownerGone?.(owner) === true);
    // IMMEDIATE: under the write lock from the start, two processes cannot both take the row read.
    return this.c.db.transaction(() => {
      // An ADDED job that is leased is being started by its claimant; only an expired lease, or its holder's death, frees it.
      const r = this.c.sql(
        `SELECT id FROM jobs WHERE status IN ('ADDED', 'INPROGRESS')
           AND (lease_expires_at IS NULL OR lease_expires_at < ? OR lease_owner IN (SELECT value FROM json_each(?)))
         ORDER BY created_at, id LIMIT 1`,
      ).get(t, JSON.stringify(gone)) as Row | undefined;
      if (!r) return null;
      this.c.sql('UPDATE jobs SET lease_owner = ?, lease_expires_at = ? WHERE id = ?').run(workerId, t + leaseMs, r.id);
      return this.toJob(this.c.sql('SELECT * FROM jobs WHERE id = ?').get(r.id) as Row);
    }).immediate();
  }

  async renewLease(jobId: string, workerId: string, leaseMs: number, now: Date): Promise<boolean> {
    return (
      this.c.sql('UPDATE jobs SET lease_expires_at = ? WHERE id = ? AND lease_owner = ?').run(now.getTime() + leaseMs, jobId, workerId)
        .changes === 1
    );
  }

  async releaseLease(jobId: string, workerId: string): Promise<void> {
    this.c.sql('UPDATE jobs SET lease_owner = NULL, lease_expires_at = NULL WHERE id = ? AND lease_owner = ?').run(jobId, workerId);
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
    })();
  }

  async commitBatch(b: BatchCommit): Promise<void> {
    if (this.writer) return this.writer.commit(b);
    this.commitBatchSync(b);
  }

  /** One transaction: the lease check, the records, the counters and the checkpoint. */
  commitBatchSync(b: BatchCommit): void {
    this.c.db.transaction(() => {
      // The table's layout is read inside the transaction, so a schema change committed just
      // before cannot leave a new key column unfilled.
      const table = this.recordTable(b.moduleId);
      this.holdLease(b.jobId, b.workerId, b.now.getTime() + b.leaseMs);
      // Updates first: a unique value an update frees may be taken by an insert of the same batch
      // (the batch processor folds updates of records it inserts into their inserts).
      table.update(b.updates);
      table.insert(b.inserts);
      this.writeProgress(b.jobId, b.resourceIndex, b.progress);
    })();
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
      }
    })();
  }

  private holdLease(jobId: string, workerId: string, expiresAt: number | null): void {
    const sql = expiresAt === null
      ? 'UPDATE jobs SET lease_owner = lease_owner WHERE id = ? AND lease_owner = ?'
      : 'UPDATE jobs SET lease_expires_at = ? WHERE id = ? AND lease_owner = ?';
    const params = expiresAt === null ? [jobId, workerId] : [expiresAt, jobId, workerId];
    if (this.c.sql(sql).run(params).changes !== 1) throw new LeaseLostError(jobId);
  }

  private writeProgress(jobId: string, idx: number, p: ResourceProgress): void {
    this.c
      .sql(
        `UPDATE job_resources SET status = ?, code = ?, added = ?, updated = ?, skipped = ?, rows_done = ?, result_bytes = ?
         WHERE job_id = ? AND idx = ?`,
      )
      .run(p.status, p.code, p.counts.added, p.counts.updated, p.counts.skipped, p.rowsDone, p.resultBytes, jobId, idx);
  }

  private recordTable(moduleId: string): RecordTable {
    this.checkMetadata();
    let t = this.tables.get(moduleId);
    if (!t) {
      const m = this.c.sql('SELECT org_id, table_name FROM modules WHERE id = ?').get(moduleId) as Row | undefined;
      if (!m) throw new Error(`unknown module ${moduleId}`);
      const cached = this.modulesCache.get(str(m.org_id));
      const module = cached?.find((x) => x.id === moduleId) ?? this.loadModule(moduleId);
      t = new RecordTable(this.c.db, str(m.table_name), module);
      this.tables.set(moduleId, t);
    }
    return t;
  }

  private loadModule(moduleId: string): ModuleDef {
    const m = this.c.sql('SELECT * FROM modules WHERE id = ?').get(moduleId) as Row;
    const fields = (this.c.sql('SELECT * FROM fields WHERE module_id = ? ORDER BY position').all(moduleId) as Row[]).map(toField);
    return { id: moduleId, apiName: str(m.api_name), singularLabel: str(m.singular_label), pluralLabel: str(m.plural_label), custom: m.custom === 1, fields };
  }

  async findRecords(moduleId: string, field: string, keys: readonly string[], columns: readonly string[]): Promise<StoredRecord[]> {
    return keys.length === 0 ? [] : this.recordTable(moduleId).find(field, keys, columns);
  }

  async getRecord(moduleId: string, recordId: string): Promise<StoredRecord | null> {
    return this.recordTable(moduleId).get(recordId);
  }

  async countRecords(moduleId: string): Promise<number> {
    return this.recordTable(moduleId).count();
  }

  async listRecords(moduleId: string, query: RecordQuery): Promise<StoredRecord[]> {
    return this.recordTable(moduleId).list(query);
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

function toField(r: Row): FieldDef {
  return {
    id: str(r.id), apiName: str(r.api_name), label: str(r.label), dataType: str(r.data_type) as DataType,
    length: r.length === null ? null : Number(r.length), mandatory: r.mandatory === 1, unique: r.is_unique === 1,
    readOnly: r.read_only === 1, lookupModule: r.lookup_module === null ? null : str(r.lookup_module),
    picklistValues: JSON.parse(str(r.picklist)) as string[], isNameField: r.is_name === 1,
  };
}
