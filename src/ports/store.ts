import type { CellValue } from '../domain/coercion.js';
import type { Criteria } from '../domain/criteria.js';
import type { Job, ResourceProgress } from '../domain/job.js';
import type { ModuleDef } from '../domain/metadata.js';
import type { SchemaPlan } from '../domain/schema.js';
import type { ModuleSpec } from '../domain/standard-modules.js';

export interface Org {
  readonly id: string;
  readonly name: string;
  readonly timeZone: string;
}

export interface User {
  readonly id: string;
  readonly orgId: string;
  readonly name: string;
  readonly email: string;
  readonly role: string;
  readonly active: boolean;
}

export interface AccessToken {
  readonly hash: string;
  readonly orgId: string;
  readonly userId: string;
  readonly scopes: readonly string[];
  readonly label: string;
  readonly createdAt: Date;
  readonly expiresAt: Date | null;
  readonly revokedAt: Date | null;
}

/** A "self client" of the accounts server (Zoho API console); its secret is kept hashed. */
export interface OAuthClient {
  readonly id: string;
  readonly secretHash: string;
  readonly orgId: string;
  readonly userId: string;
  readonly name: string;
  readonly createdAt: Date;
}

/** A grant code (single use, short-lived) or a refresh token of a client. */
export interface OAuthGrant {
  readonly hash: string;
  readonly kind: 'code' | 'refresh';
  readonly clientId: string;
  readonly scopes: readonly string[];
  readonly expiresAt: Date | null;
  readonly usedAt: Date | null;
  readonly createdAt: Date;
}

/** An uploaded zip, inspected at upload time so create-job can validate synchronously. */
export interface UploadedFile {
  readonly id: string;
  readonly orgId: string;
  readonly userId: string;
  readonly blobKey: string;
  readonly size: number;
  readonly sha256: string;
  readonly uploadName: string;
  /** Name of the CSV entry inside the zip. */
  readonly csvName: string;
  readonly header: readonly string[];
  readonly delimiter: string;
  readonly encoding: string;
  readonly createdTime: Date;
}

/** A record's id and the folded keys of some of its fields (null where the field is empty). */
export interface RecordKeys {
  readonly id: string;
  readonly keys: Readonly<Record<string, string | null>>;
}

export interface StoredRecord {
  readonly id: string;
  readonly values: Readonly<Record<string, CellValue>>;
}

/**
 * Records a batch writes, as one table: every row has the same columns, so a store binds them
 * straight into a prepared statement or a COPY line, and the batch crosses a thread as a few flat
 * arrays instead of one object per record (measured: both matter at a million rows).
 */
export interface RecordRows {
  /** Field api_names; none of them is in `shared`. */
  readonly columns: readonly string[];
  readonly ids: readonly string[];
  /**
   * By column: row r's value of columns[c] is values[c][r]. In updates, undefined leaves the
   * stored value as it is; in inserts it stands for null. A column no row gives a value may be
   * an empty array (it crosses to a commit thread at no cost). (One array per column stays under V8's
   * 128 KB large-object size at batch sizes of up to 16,000 rows; one flat array of a batch's
   * cells did not, and cost a large-object allocation on each side of the commit thread per batch.)
   */
  readonly values: readonly (readonly (CellValue | undefined)[])[];
  /**
   * Values every row gets (the system fields, an insert's default Owner): bound once per statement.
   * An insert without Modified_Time or Modified_By (or with null) stores its Created_Time and
   * Created_By there: a new record's modification is its creation. One without Owner, here or as
   * a row's value (or with null), stores its Created_By: a record always has an owner. (PostgreSQL
   * leaves these NULL where the insert gives none, or shares the creation's value, and reads a NULL
   * there as the creation.)
   * An insert gives Created_Time and Created_By here; an update gives Modified_Time and
   * Modified_By, never null, never a null Owner, and no Created_*.
   */
  readonly shared: Readonly<Record<string, CellValue>>;
  /**
   * Fields among `columns` whose folded key no row changes (an update's find_by field matched
   * its record by that key), so their key column and index are left alone.
   */
  readonly keptKeys: readonly string[];
  /**
   * Inserts only, to a store whose `writesRecordLines` is true: rows whose values are their CSV
   * record's cells as read, one per column in `columns` order, none empty and each stored as it is
   * written (text, or a number whose text it is). For such a row r, `lines.starts[r]` is where
   * its record's UTF-8 bytes (no quotes, cells separated by `lines.delimiter`, nothing escaped)
   * start in `lines.bytes`, `lines.ends[r]` where they end, and its values are left undefined (the
   * store reads the cells of unique and name fields there for their keys); -1 for every other row.
   */
  readonly lines?: RecordLines;
}

export interface RecordLines {
  readonly bytes: Uint8Array;
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  /** The byte between two cells. */
  readonly delimiter: number;
  /**
   * Set when the buffer under `bytes` may be moved to another thread while the batch commits (a
   * commit thread's store moves it rather than copy it twice): it comes back through this once
   * nothing there reads it, so that its memory serves a later batch. Never called by a store that
   * reads `bytes` where they are.
   */
  readonly giveBack?: (buffer: ArrayBuffer) => void;
}

export const NO_ROWS: RecordRows = { columns: [], ids: [], values: [], shared: {}, keptKeys: [] };

/**
 * Lines of a resource's result CSV deflated on their own: a raw deflate stream that ends with a
 * sync flush and no final block, so that the deflated parts of a resource, one after another, are
 * one deflate stream (a zip entry's data once a final block ends it; ingest/zip-writer.ts). A
 * job deflates each batch's lines before it commits them, rather than the whole CSV at its end.
 */
export interface DeflatedLines {
  readonly deflated: Uint8Array;
  /** How many bytes of the CSV they inflate to. */
  readonly rawBytes: number;
  /** The CRC-32 of those bytes. */
  readonly crc: number;
}

/** A stretch of a resource's result CSV as committed: its bytes, or those bytes deflated. */
export type ResultPart = Uint8Array | DeflatedLines;

/** A committed result chunk's figures (store/result-chunks.ts ResultChunk, but for its data's length). */
export interface ResultChunkInfo {
  /** Where its lines start in the result CSV. */
  readonly pos: number;
  /** Bytes of its data as stored: deflated, or the lines themselves. */
  readonly storedBytes: number;
  /** What its data inflates to; null for lines stored as they are. */
  readonly rawBytes: number | null;
  readonly crc: number | null;
}

/** A part of a blob that Store.writeJoinedResult writes: bytes, or a resource's stored result chunks. */
export type JoinedResultPart = Uint8Array | { readonly resourceIndex: number };

/** How many bytes of the result CSV a part holds. */
export function rawLength(part: ResultPart): number {
  return part instanceof Uint8Array ? part.byteLength : part.rawBytes;
}

/**
 * A job as a worker claims it. `interruptedRuns`: its runs in a row before this claim that ended
 * with neither a committed batch nor the lease released (the process crashed or stalled): a claim
 * that takes the job from a lease not released counts one, a committed batch starts again at 0.
 * A job that brings its worker down each time is told from one a crash interrupted once.
 */
export interface ClaimedJob extends Job {
  readonly interruptedRuns: number;
}

export interface ClaimOptions {
  /** On a store shared only by processes of this machine: whether a lease holder has died, so that its job is runnable at once. */
  readonly ownerGone?: (owner: string) => boolean;
  /**
   * The claimant runs other jobs already. It takes only a job no crash may have interrupted (one
   * with no interrupted run, whose last lease was released or never taken), and none while the
   * oldest runnable job is not such a one: that job waits for a claimant with nothing else
   * running, rather than for busy ones to run out of newer jobs.
   */
  readonly sharing?: boolean;
}

export interface BatchCommit {
  readonly jobId: string;
  readonly workerId: string;
  readonly resourceIndex: number;
  readonly moduleId: string;
  readonly userId: string;
  readonly inserts: RecordRows;
  /** Applied before the inserts, in order; a record may appear more than once (the last write wins). */
  readonly updates: RecordRows;
  readonly progress: ResourceProgress;
  /**
   * The batch's lines of the resource's result CSV (a resource's first lines begin with its
   * header), kept at byte `progress.resultBytes - rawLength(resultLines)`: they commit with the
   * checkpoint that counts them, under the same lease, so no crash or stalled worker can leave a
   * checkpoint and its lines apart. The same lines at the same place again are a no-op. Stores
   * keep raw lines in pieces of at most RESULT_PIECE_BYTES (store/result-chunks.ts), deflated
   * lines as they come.
   */
  readonly resultLines: ResultPart;
  /**
   * The checkpoint's `resultBytes` this batch continues from. A job sends a batch while the one
   * before it may still be committing; if that one failed, the checkpoint is not where this batch
   * starts, and the store refuses it (CheckpointMovedError) rather than commit it after a gap.
   * null for lines committed on their own (a header, an earlier version's lines), wherever the
   * checkpoint is.
   */
  readonly continues: number | null;
  readonly leaseMs: number;
  readonly now: Date;
}

export interface NewOrg {
  readonly org: Org;
  readonly admin: User;
  readonly modules: readonly ModuleSpec[];
}

export interface CallbackDelivery {
  readonly id: string;
  readonly jobId: string;
  readonly url: string;
  readonly body: string;
  readonly attempts: number;
}

/** How a job ends, written in one transaction with its last resource's counters. */
/** Ends a job; its result lines (see BatchCommit) are dropped with it, the zip holding them by then. */
export interface JobEnd {
  readonly status: 'COMPLETED' | 'FAILED';
  readonly resultKey: string | null;
  readonly failure: string | null;
  readonly at: Date;
  /** The job's callback, recorded in the same transaction so that no crash can lose it; due at once. */
  readonly callback: CallbackDelivery | null;
}

/** Who holds a callback delivery for one attempt, and until when; other processes leave it alone till then. */
export interface CallbackClaim {
  readonly owner: string;
  readonly until: Date;
}

export interface CallbackAttempt {
  readonly delivered: boolean;
  readonly failedForGood: boolean;
  readonly error: string | null;
  readonly at: Date;
  /** When a failed delivery is due again (null once delivered or given up). */
  readonly retryAt: Date | null;
}

export interface RecordQuery {
  /** Field names in it are checked against the module by the caller. */
  readonly filter: Criteria | null;
  readonly page: number;
  /** Page size; listRecords returns up to one record more, so the caller knows whether more exist. */
  readonly perPage: number;
  readonly sortBy: string;
  readonly sortOrder: 'asc' | 'desc';
}

/**
 * The store could not be reached or could not answer for now: a connection lost, a server
 * restarting, a commit thread that died. Nothing a job can do about it but run again later from
 * its last checkpoint (a commit whose answer was lost either landed or not: the checkpoint says).
 */
export class StoreUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreUnavailableError';
  }
}

/** Thrown by commitBatch when the worker no longer holds the job's lease. */
export class LeaseLostError extends Error {
  constructor(jobId: string) {
    super(`lease on job ${jobId} was lost`);
    this.name = 'LeaseLostError';
  }
}

/**
 * Thrown by commitBatch when a record of the batch would take a unique value another record holds
 * (another job wrote it after this batch looked, or the batch did not look): nothing of the batch
 * is kept, and the job redoes it from its checkpoint, looking first.
 */
export class UniqueConflictError extends Error {
  constructor(readonly detail: string) {
    super(`a unique value of the batch is taken: ${detail}`);
    this.name = 'UniqueConflictError';
  }
}

/** Thrown by commitBatch for a batch that does not continue from the stored checkpoint (BatchCommit.continues). */
export class CheckpointMovedError extends Error {
  constructor(jobId: string, resourceIndex: number, continues: number) {
    super(`job ${jobId} resource ${resourceIndex}: the batch continues from result byte ${continues}, and the checkpoint is elsewhere (an earlier batch did not commit)`);
    this.name = 'CheckpointMovedError';
  }
}

/**
 * Everything Bulkwright keeps, behind one port (DESIGN.md "ports"). Only store/* knows SQL.
 * A batch commit is one transaction: records, counters and checkpoint together.
 */
export interface Store {
  /**
   * Every process that shares this store runs on this machine (SQLite), so a lease holder's pid
   * says whether it still lives; processes of a PostgreSQL store may be anywhere.
   */
  readonly singleHost: boolean;
  /**
   * Whether record inserts may come with their CSV lines (RecordRows.lines): a store that writes
   * text (PostgreSQL's COPY) copies such a record's bytes instead of encoding each value again.
   */
  readonly writesRecordLines: boolean;
  /**
   * Whether an error this store, or the blob store on the same database, threw means it could not
   * be reached for now (StoreUnavailableError, or the driver's own errors of that kind): a job
   * that meets one runs again later, where an error of its file fails it.
   */
  isUnavailable(e: unknown): boolean;
  close(): Promise<void>;
  /**
   * A value that stays the same (===) while nothing has been written to the database since it was
   * taken, by this connection, another, or another process; null when the store cannot tell
   * cheaply. Answers that polls repeat (job details) are kept against it (http/app.ts).
   */
  readStamp(): object | null;
  allocateIds(count: number): Promise<string[]>;

  listOrgs(): Promise<Org[]>;
  getOrg(orgId: string): Promise<Org | null>;
  /**
   * Creates an org with its admin and modules in one transaction. With `onlyIfFirst` it creates
   * nothing, and returns false, when an org already exists, atomically across processes.
   */
  createOrg(input: NewOrg, options?: { readonly onlyIfFirst?: boolean }): Promise<boolean>;
  getUser(orgId: string, userId: string): Promise<User | null>;
  listUsers(orgId: string): Promise<User[]>;

  saveToken(token: AccessToken): Promise<void>;
  findToken(hash: string): Promise<AccessToken | null>;
  listTokens(orgId: string): Promise<AccessToken[]>;
  revokeToken(hash: string, at: Date): Promise<boolean>;

  saveOAuthClient(client: OAuthClient): Promise<void>;
  findOAuthClient(id: string): Promise<OAuthClient | null>;
  saveOAuthGrant(grant: OAuthGrant): Promise<void>;
  findOAuthGrant(hash: string): Promise<OAuthGrant | null>;
  /** Marks a grant code used; false when it already was (a code works once). */
  useOAuthGrant(hash: string, at: Date): Promise<boolean>;

  listModules(orgId: string): Promise<ModuleDef[]>;
  /** Adds modules and fields (columns) in one transaction; existing records keep their values. */
  applySchema(orgId: string, plan: SchemaPlan): Promise<void>;
  /** Appends values to a picklist, as Zoho does for values a bulk write brings (reference §9.6). */
  addPicklistValues(moduleId: string, fieldApiName: string, values: readonly string[]): Promise<void>;

  saveFile(file: UploadedFile): Promise<void>;
  getFile(orgId: string, fileId: string): Promise<UploadedFile | null>;

  createJob(job: Job): Promise<void>;
  getJob(orgId: string, jobId: string): Promise<Job | null>;
  listJobs(orgId: string, limit: number): Promise<Job[]>;
  /**
   * Takes the oldest runnable job (ADDED, or INPROGRESS with no lease or an expired one) under a
   * lease, but see ClaimOptions.sharing. A job whose lease holder `ownerGone` says has died is
   * runnable at once.
   */
  claimJob(workerId: string, leaseMs: number, now: Date, options?: ClaimOptions): Promise<ClaimedJob | null>;
  renewLease(jobId: string, workerId: string, leaseMs: number, now: Date): Promise<boolean>;
  /**
   * Lets the job go; with `notBefore`, no claim takes it before then (a retry's wait). Either way
   * the next claim does not count this run as interrupted (ClaimedJob): it ended on purpose.
   */
  releaseLease(jobId: string, workerId: string, notBefore?: Date): Promise<void>;
  /** Marks the job and one of its resources INPROGRESS (counts shown from then on). */
  startResource(jobId: string, workerId: string, resourceIndex: number, characterEncoding: string): Promise<void>;
  /** A job's batches are applied in the order of the calls, each after the one before it has committed or failed. */
  commitBatch(batch: BatchCommit): Promise<void>;
  /**
   * A resource's result CSV as its committed batches wrote it, part by part in order, each as it
   * was committed (raw, or deflated); fails if bytes are missing, between parts or at the end
   * (`bytes`: what the checkpoint counts, in bytes of the CSV). Stopping early frees what it holds.
   */
  readResult(jobId: string, resourceIndex: number, bytes: number): AsyncGenerator<ResultPart>;
  /**
   * A resource's committed result chunks in order, without their data: for a store that can join
   * them into a blob where they are (writeJoinedResult). Absent where it cannot.
   */
  resultIndex?(jobId: string, resourceIndex: number): Promise<ResultChunkInfo[]>;
  /**
   * Writes blob `key`, of the blob store that keeps its blobs in this store's database, as `parts`
   * joined in order: bytes as given, and for `{ resourceIndex }` the data of that resource's result
   * chunks as stored. `bytes` is the blob's size, which the write checks. Replaces the key's blob
   * as BlobStore.write does, once the whole blob is written.
   */
  writeJoinedResult?(key: string, jobId: string, parts: readonly JoinedResultPart[], bytes: number): Promise<void>;
  /** Marks a resource's end; with `job` set, also finishes the job in the same transaction. */
  finishResource(
    jobId: string,
    workerId: string,
    resourceIndex: number,
    progress: ResourceProgress,
    job: JobEnd | null,
  ): Promise<void>;

  findRecords(moduleId: string, field: string, keys: readonly string[], columns: readonly string[]): Promise<StoredRecord[]>;
  /**
   * Like findRecords, but each record comes with the folded keys (foldKey) of `keyFields` rather
   * than their values: what duplicate checks compare, read from the unique indexes alone.
   */
  findKeys(moduleId: string, field: string, keys: readonly string[], keyFields: readonly string[]): Promise<RecordKeys[]>;
  getRecord(moduleId: string, recordId: string): Promise<StoredRecord | null>;
  countRecords(moduleId: string): Promise<number>;
  listRecords(moduleId: string, query: RecordQuery): Promise<StoredRecord[]>;

  /** Takes up to `limit` pending deliveries that are due and held by no one (or whose claim expired). */
  claimCallbacks(claim: CallbackClaim, now: Date, limit: number): Promise<CallbackDelivery[]>;
  /** Records an attempt of the claim's owner and lets the delivery go; nothing when its claim was lost. */
  recordCallbackAttempt(id: string, owner: string, attempt: CallbackAttempt): Promise<void>;
  /** Hands back a delivery untried (shutdown): due at once for any process. */
  releaseCallback(id: string, owner: string): Promise<void>;
  /** Deliveries neither delivered nor given up. */
  countPendingCallbacks(): Promise<number>;
}
