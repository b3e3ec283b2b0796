import pg from 'pg';
import type { Job, ResourceProgress, ResourceSpec } from '../../domain/job.js';
import {
  CheckpointMovedError, LeaseLostError, UniqueConflictError, type BatchCommit, type ClaimedJob, type ClaimOptions, type JobEnd, type JoinedResultPart,
  type ResultChunkInfo, type ResultPart,
} from '../../ports/store.js';
import { jobFromRows } from '../job-rows.js';
import { resultParts, resultPieces, type ResultChunk } from '../result-chunks.js';
import { PIECE_BYTES } from '../../blob/pg/pg-blob-reader.js';
import { binaryCopyOfChunkRow, copyOut } from './copy-binary.js';
import { CopyPieces } from './copy-pieces.js';
import type { PgModuleCatalog } from './module-catalog.js';
import { insertCallback } from './pg-callback-queue.js';
import { runOneTrip } from './one-trip-query.js';
import { BEGIN_UNFLUSHED, withTransaction, type Queryable } from './pg-pool.js';
import type { PgRecordTable } from './record-tables.js';

type Row = Record<string, unknown>;

interface BuiltBatch {
  readonly text: string;
  readonly copies: readonly (readonly Uint8Array[])[];
}

/**
 * A batch's commit does not wait for its WAL flush: a process crash loses nothing, and an OS crash
 * at most the last batches, records and checkpoint together, which the job redoes (as SQLite's
 * synchronous=NORMAL). The job's end still waits for its flush. Unique values are checked at
 * commit, when the whole batch is applied (record-columns.ts).
 */
const BATCH_BEGIN = `${BEGIN_UNFLUSHED}; SET CONSTRAINTS ALL DEFERRED`;
/**
 * Result bytes a batch's one query carries at most, as hex in its text: a batch's deflated lines
 * are ~11 KB; the lines an earlier version kept in a file, adopted in one commit, may be tens of MB.
 */
const ONE_TRIP_RESULT_BYTES = 1024 * 1024;
/**
 * A job row with its resources' progress, read by one statement: two queries could see the job
 * INPROGRESS and its last resource already COMPLETED, when a worker's commit falls between them.
 */
const WITH_PROGRESS = `j.*, coalesce((SELECT json_agg(r ORDER BY r.idx) FROM job_resources r WHERE r.job_id = j.id), '[]') AS progress`;
const str = (v: unknown): string => String(v);

/**
 * The jobs table is the queue (DESIGN.md): a worker claims a row with FOR UPDATE SKIP LOCKED and
 * holds it by a lease it renews. Every write a worker makes first re-checks `lease_owner` in the
 * same transaction, which also locks the job row, so a worker whose lease was taken over can
 * commit nothing more, and a claimer never sees a row whose batch is being committed.
 */
export class PgJobQueue {
  /** Buffers of the batches' COPY data, used again by the next batch once runOneTrip has sent them. */
  private readonly pieces = new CopyPieces();

  constructor(
    private readonly pool: pg.Pool,
    private readonly catalog: PgModuleCatalog,
  ) {}

  async createJob(job: Job): Promise<void> {
    await withTransaction(this.pool, async (c) => {
      await c.query(
        `INSERT INTO jobs (id, org_id, created_by_id, created_by_name, created_at, operation, ignore_empty, requested_encoding,
          callback_url, status, specs) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb)`,
        [job.id, job.orgId, job.createdBy.id, job.createdBy.name, job.createdTime, job.operation, job.ignoreEmpty,
          job.requestedEncoding, job.callback?.url ?? null, job.status, JSON.stringify(job.resources.map((r) => r.spec))],
      );
      await c.query(
        `INSERT INTO job_resources (job_id, idx, status, code, added, updated, skipped, rows_done, result_bytes)
         SELECT $1, i - 1, s, k, 0, 0, 0, 0, 0 FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS r(s, k, i)`,
        [job.id, job.resources.map((r) => r.progress.status), job.resources.map((r) => r.progress.code)],
      );
    });
  }

  async getJob(orgId: string, jobId: string): Promise<Job | null> {
    const { rows } = await this.pool.query<Row>(`SELECT ${WITH_PROGRESS} FROM jobs j WHERE org_id = $1 AND id = $2`, [orgId, jobId]);
    return rows.map((r) => toJob(r, r.progress as Row[])).at(0) ?? null;
  }

  async listJobs(orgId: string, limit: number): Promise<Job[]> {
    const { rows } = await this.pool.query<Row>(`SELECT ${WITH_PROGRESS} FROM jobs j WHERE org_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, [
      orgId, limit,
    ]);
    return rows.map((r) => toJob(r, r.progress as Row[]));
  }

  async claimJob(workerId: string, leaseMs: number, now: Date, options: ClaimOptions = {}): Promise<ClaimedJob | null> {
    const { ownerGone, sharing = false } = options;
    const holders = ownerGone
      ? (await this.pool.query<{ owner: string }>(
          "SELECT DISTINCT lease_owner AS owner FROM jobs WHERE status IN ('ADDED', 'INPROGRESS') AND lease_owner IS NOT NULL AND lease_expires_at >= $1",
          [now],
        )).rows
      : [];
    const gone = holders.map((r) => r.owner).filter((owner) => ownerGone?.(owner) === true);
    return withTransaction(this.pool, async (c) => {
      // An ADDED job that is leased is being started by its claimant; only an expired lease, or its holder's death, frees it.
      const { rows } = await c.query<Row>(
        `SELECT id, interrupted_runs + (lease_owner IS NOT NULL)::int AS interrupted FROM jobs WHERE status IN ('ADDED', 'INPROGRESS')
           AND (lease_expires_at IS NULL OR lease_expires_at < $1 OR lease_owner = ANY($2::text[]))
         ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED`,
        [now, gone],
      );
      const id = rows[0]?.id;
      if (id === undefined || (sharing && Number(rows[0]?.interrupted) > 0)) return null;
      const claimed = await c.query<Row>(
        `UPDATE jobs SET interrupted_runs = interrupted_runs + (lease_owner IS NOT NULL)::int, lease_owner = $1, lease_expires_at = $2
         WHERE id = $3 RETURNING *`,
        [workerId, new Date(now.getTime() + leaseMs), id],
      );
      const job = (await this.withResources(c, claimed.rows))[0];
      return job ? { ...job, interruptedRuns: Number(claimed.rows[0]?.interrupted_runs) } : null;
    });
  }

  async renewLease(jobId: string, workerId: string, leaseMs: number, now: Date): Promise<boolean> {
    const r = await this.pool.query('UPDATE jobs SET lease_expires_at = $1 WHERE id = $2 AND lease_owner = $3', [
      new Date(now.getTime() + leaseMs), jobId, workerId,
    ]);
    return r.rowCount === 1;
  }

  async releaseLease(jobId: string, workerId: string, notBefore?: Date): Promise<void> {
    // A released job whose lease_expires_at is ahead waits for it: claims take only expired leases.
    await this.pool.query('UPDATE jobs SET lease_owner = NULL, lease_expires_at = $3 WHERE id = $1 AND lease_owner = $2', [jobId, workerId, notBefore ?? null]);
  }

  async startResource(jobId: string, workerId: string, resourceIndex: number, characterEncoding: string): Promise<void> {
    await withTransaction(this.pool, async (c) => {
      const r = await c.query("UPDATE jobs SET status = 'INPROGRESS', character_encoding = $1 WHERE id = $2 AND lease_owner = $3", [
        characterEncoding, jobId, workerId,
      ]);
      if (r.rowCount !== 1) throw new LeaseLostError(jobId);
      await c.query("UPDATE job_resources SET status = 'INPROGRESS', code = 'INPROGRESS' WHERE job_id = $1 AND idx = $2", [jobId, resourceIndex]);
    });
  }

  /**
   * Records, counters and checkpoint in one transaction (DESIGN.md "Data flow", step 3). A batch
   * travels as one query with the data of its COPYs (one-trip-query.ts), unless it has more result
   * bytes than ONE_TRIP_RESULT_BYTES: that one takes a round trip per statement, its values as
   * parameters.
   */
  async commitBatch(b: BatchCommit): Promise<void> {
    await (await this.prepareCommit(b))();
  }

  /**
   * Builds a batch's query and COPY data, and returns what sends them (commitBatch is the two in a
   * row). The commit thread builds a batch while the server still writes the one before it.
   * Building reads nothing that batch writes; the query checks the checkpoint it continues from
   * when it runs, so a batch sent after a failed one still fails.
   */
  async prepareCommit(b: BatchCommit): Promise<() => Promise<void>> {
    // Nothing to build ahead for a batch sent statement by statement (rare): its table is read
    // when it is sent, as close to its writes as before.
    if (resultPartBytes(b.resultLines) > ONE_TRIP_RESULT_BYTES) {
      return () => this.failingAsPort(b, async () => this.commitWithParameters(b, await this.catalog.recordTable(b.moduleId)));
    }
    let built: BuiltBatch | null = await this.buildBatch(b, false);
    return () =>
      this.failingAsPort(b, async () => {
        for (let attempt = 1; ; attempt++) {
          const batch = built ?? (await this.buildBatch(b, true));
          built = null;
          try {
            await runOneTrip(this.pool, batch.text, batch.copies);
            return;
          } catch (e) {
            // The schema moved since the table was cached: the batch again, with the table as it is now.
            if (codeOf(e) !== 'BW003' || attempt === 3) throw e;
          } finally {
            // Sent or failed, runOneTrip has settled: no socket holds the data any more.
            this.pieces.giveBack(batch.copies.flat());
          }
        }
      });
  }

  /** A batch's one query and the data of its COPYs; `fresh` reads the record table's columns again. */
  private async buildBatch(b: BatchCommit, fresh: boolean): Promise<BuiltBatch> {
    const { table: records, version } = await this.catalog.recordTableOfVersion(b.moduleId, fresh);
    const updates = records.updatesOf(b.updates, this.pieces.take);
    const copy = records.copyOf(b.inserts, this.pieces.take);
    const writes = [...(updates ? [updates.create, updates.copy, ...updates.apply] : []), ...(copy ? [copy.sql] : [])];
    const { text, chunk } = batchText(b, version, records.table, writes);
    const copies = [updates?.data, copy?.data, chunk ? [chunk] : undefined].filter((d) => d !== undefined);
    return { text, copies };
  }

  /** Runs a commit, turning the server's refusals into the port's errors. */
  private async failingAsPort(b: BatchCommit, commit: () => Promise<void>): Promise<void> {
    try {
      await commit();
    } catch (e) {
      const code = codeOf(e);
      if (code === 'BW001') throw new LeaseLostError(b.jobId);
      if (code === 'BW002' && b.continues !== null) throw new CheckpointMovedError(b.jobId, b.resourceIndex, b.continues);
      // unique_violation: only a record's unique index can raise it here (ids are allocated).
      if (code === '23505') throw new UniqueConflictError((e as Error).message);
      throw e;
    }
  }

  private async commitWithParameters(b: BatchCommit, table: PgRecordTable): Promise<void> {
    await withTransaction(
      this.pool,
      async (c) => {
        // Updates first: a unique value an update frees may be taken by an insert of the same batch
        // (the batch processor folds updates of records it inserts into their inserts).
        await table.update(c, b.updates);
        await table.insert(c, b.inserts);
        const [first, ...more] = resultPieces(b.resultLines, b.progress.resultBytes);
        await checkpointBatch(c, b, first ?? null);
        for (const piece of more) await insertResultChunk(c, b.jobId, b.resourceIndex, piece);
      },
      BATCH_BEGIN,
    );
  }

  async finishResource(jobId: string, workerId: string, resourceIndex: number, progress: ResourceProgress, job: JobEnd | null): Promise<void> {
    await withTransaction(this.pool, async (c) => {
      await holdLease(c, jobId, workerId);
      await writeProgress(c, jobId, resourceIndex, progress);
      if (!job) return;
      await c.query(
        'UPDATE jobs SET status = $1, result_key = $2, failure = $3, finished_at = $4, lease_owner = NULL, lease_expires_at = NULL WHERE id = $5',
        [job.status, job.resultKey, job.failure, job.at, jobId],
      );
      if (job.status === 'FAILED') {
        await c.query("UPDATE job_resources SET status = 'SKIPPED', code = 'SKIPPED' WHERE job_id = $1 AND status = 'ADDED'", [jobId]);
      }
      if (job.callback) await insertCallback(c, job.callback);
      await c.query('DELETE FROM result_chunks WHERE job_id = $1', [jobId]);
    });
  }

  /** In one binary COPY, streamed: bytea as its bytes (copy-binary.ts), not as hex text. */
  readResult(jobId: string, resourceIndex: number, bytes: number): AsyncGenerator<ResultPart> {
    // COPY takes no parameters: the id and the index are checked to be what they must, digits.
    if (!/^\d+$/.test(jobId) || !Number.isSafeInteger(resourceIndex)) throw new Error(`no result for job ${jobId} resource ${resourceIndex}`);
    const pool = this.pool;
    async function* chunks(): AsyncGenerator<ResultChunk> {
      const query = `SELECT pos, data, raw_bytes, crc FROM result_chunks WHERE job_id = '${jobId}' AND idx = ${resourceIndex} ORDER BY pos`;
      for await (const [pos, data, rawBytes, crc] of copyOut(pool, query)) {
        if (!pos || !data) throw new Error(`job ${jobId}: a result chunk without its position or lines`);
        // Binary COPY: integer as 4 bytes, bigint as 8, big-endian.
        yield { pos: Number(pos.readBigInt64BE(0)), data, rawBytes: rawBytes ? rawBytes.readInt32BE(0) : null, crc: crc ? Number(crc.readBigInt64BE(0)) : null };
      }
    }
    return resultParts(chunks(), bytes);
  }

  /** Store.resultIndex: the data's length is read from its TOAST pointer, not the data. */
  async resultIndex(jobId: string, resourceIndex: number): Promise<ResultChunkInfo[]> {
    const { rows } = await this.pool.query<{ pos: string; stored: number; raw_bytes: number | null; crc: string | null }>(
      'SELECT pos, length(data) AS stored, raw_bytes, crc FROM result_chunks WHERE job_id = $1 AND idx = $2 ORDER BY pos',
      [jobId, resourceIndex],
    );
    return rows.map((r) => ({ pos: Number(r.pos), storedBytes: r.stored, rawBytes: r.raw_bytes, crc: r.crc === null ? null : Number(r.crc) }));
  }

  /**
   * Store.writeJoinedResult's pieces of blob `generation`, written by one statement: the result
   * chunks never leave the server (a 1M-row result zip is ~10 MB read out and written back
   * otherwise). Committed without waiting for its WAL flush: the key is given by writeGeneration's
   * last transaction, which flushes it.
   */
  async joinResult(generation: bigint, jobId: string, parts: readonly JoinedResultPart[], bytes: number): Promise<void> {
    const literalAt: number[] = [];
    const literals: Buffer[] = [];
    const resourceAt: number[] = [];
    const resources: number[] = [];
    parts.forEach((part, at) => {
      if (part instanceof Uint8Array) {
        literalAt.push(at);
        literals.push(asBuffer(part));
      } else {
        resourceAt.push(at);
        resources.push(part.resourceIndex);
      }
    });
    const { rows } = await withTransaction(
      this.pool,
      (c) => c.query<{ pieces: string; bytes: string | null }>(JOIN_RESULT, [jobId, literalAt, literals, resourceAt, resources, generation.toString(), PIECE_BYTES]),
      BEGIN_UNFLUSHED,
    );
    const written = Number(rows[0]?.bytes ?? 0);
    const pieces = Number(rows[0]?.pieces ?? 0);
    if (written !== bytes || pieces !== Math.ceil(bytes / PIECE_BYTES)) {
      throw new Error(`job ${jobId}: the joined result holds ${written} bytes in ${pieces} pieces, not the ${bytes} expected`);
    }
  }

  private async withResources(db: Queryable, jobs: readonly Row[]): Promise<Job[]> {
    if (jobs.length === 0) return [];
    const { rows } = await db.query<Row>('SELECT * FROM job_resources WHERE job_id = ANY($1::text[]) ORDER BY job_id, idx', [jobs.map((j) => j.id)]);
    const byJob = new Map<string, Row[]>();
    for (const r of rows) {
      const list = byJob.get(str(r.job_id)) ?? [];
      list.push(r);
      byJob.set(str(r.job_id), list);
    }
    return jobs.map((j) => toJob(j, byJob.get(str(j.id)) ?? []));
  }
}

/**
 * Joins parts into blob pieces of $7 bytes at positions 0, $7, 2·$7, …: the bytes $3 at the places
 * $2 of the order, and the result chunks of resources $5 at the places $4, each resource's in the
 * order of their positions. Each part is placed at the sum of the lengths before it; each piece
 * is cut from the parts it overlaps. Returns the pieces written and their bytes.
 */
const JOIN_RESULT = `WITH parts AS (
    SELECT l.o, 0::bigint AS sub, l.d AS data FROM unnest($2::int[], $3::bytea[]) AS l(o, d)
    UNION ALL
    SELECT r.o, c.pos, c.data FROM unnest($4::int[], $5::int[]) AS r(o, i) JOIN result_chunks c ON c.job_id = $1 AND c.idx = r.i
  ), placed AS (
    SELECT data, length(data)::bigint AS n, (sum(length(data)) OVER (ORDER BY o, sub) - length(data))::bigint AS start FROM parts WHERE length(data) > 0
  ), written AS (
    INSERT INTO blob_pieces (generation, pos, data)
    SELECT $6::bigint, p * $7::bigint,
      string_agg(substring(data FROM (greatest(p * $7 - start, 0) + 1)::int FOR (least((p + 1) * $7, start + n) - greatest(p * $7, start))::int), ''::bytea ORDER BY start)
    FROM placed, generate_series(start / $7::bigint, (start + n - 1) / $7::bigint) AS p
    GROUP BY p
    RETURNING length(data) AS n
  )
  SELECT count(*) AS pieces, sum(n) AS bytes FROM written`;

/** Fails unless `workerId` still holds the job's lease, and keeps the job's row locked till commit. */
async function holdLease(c: pg.PoolClient, jobId: string, workerId: string): Promise<void> {
  const r = await c.query({ name: 'lease-hold', text: 'UPDATE jobs SET lease_owner = lease_owner WHERE id = $1 AND lease_owner = $2', values: [jobId, workerId] });
  if (r.rowCount !== 1) throw new LeaseLostError(jobId);
}

/**
 * A batch's commit as one query, to send with the data of the COPYs among `writes`: BEGIN; when it
 * writes records, the table's lock, under which the server checks that the schema of `version` the
 * statements were built for is current (bw_schema_is: BW003), since a field added meanwhile, as its
 * column, waits for that lock; `writes` (the updates before the inserts' COPY: a unique value an
 * update frees may be taken by an insert of the same batch); the statement of checkpointBatch,
 * whose outcome the server checks too (bw_batch_checked: BW001 for the lease, BW002 for the
 * checkpoint); COMMIT. Any failure fails the rest of the query. Values are literals: a simple query
 * has no parameters, and it is planned each time, which costs the server less than the round trips
 * saved. But for a batch's result chunk, which goes as the data of a binary COPY after the
 * checkpoint statement (`chunk`): as a hex literal, the server lexed and decoded 40 KB of text per
 * batch (~0.27 s of its CPU per 1M-row insert, measured alone). Only a batch that continues the
 * checkpoint sends it so: the statement before has checked that the checkpoint is where the batch
 * starts, and every chunk commits with the checkpoint that counts it, so none is at that place yet;
 * COPY has no ON CONFLICT, which lines committed alone (`continues` null: a rerun's commit of them is
 * a no-op) need.
 */
function batchText(b: BatchCommit, version: string, table: string, writes: readonly string[]): { text: string; chunk: Buffer | null } {
  const p = b.progress;
  const job = pg.escapeLiteral(b.jobId);
  const idx = int(b.resourceIndex);
  const chunk = (piece: ResultChunk): string =>
    `INSERT INTO result_chunks (job_id, idx, pos, data, raw_bytes, crc) VALUES (${job}, ${idx}, ${int(piece.pos)}, ` +
    `decode('${asBuffer(piece.data).toString('hex')}', 'hex'), ` +
    `${piece.rawBytes === null ? 'NULL' : int(piece.rawBytes)}, ${piece.crc === null ? 'NULL' : int(piece.crc)}) ON CONFLICT DO NOTHING`;
  const [first, ...more] = resultPieces(b.resultLines, p.resultBytes);
  const copied = first !== undefined && more.length === 0 && b.continues !== null ? first : null;
  const inline = copied === null ? first : undefined;
  const checkpoint = `WITH lease AS (
      UPDATE jobs SET lease_expires_at = '${new Date(b.now.getTime() + b.leaseMs).toISOString()}'::timestamptz, interrupted_runs = 0
      WHERE id = ${job} AND lease_owner = ${pg.escapeLiteral(b.workerId)} RETURNING 1
    ), progress AS (
      UPDATE job_resources SET status = ${pg.escapeLiteral(p.status)}, code = ${pg.escapeLiteral(p.code)}, added = ${int(p.counts.added)},
        updated = ${int(p.counts.updated)}, skipped = ${int(p.counts.skipped)}, rows_done = ${int(p.rowsDone)}, result_bytes = ${int(p.resultBytes)}
      WHERE job_id = ${job} AND idx = ${idx}${b.continues === null ? '' : ` AND result_bytes = ${int(b.continues)}`} RETURNING 1
    )${inline ? `, chunk AS (${chunk(inline)})` : ''}
    SELECT bw_batch_checked((SELECT count(*) FROM lease), (SELECT count(*) FROM progress), ${b.continues !== null})`;
  const records = writes.length > 0 ? [`LOCK TABLE ${table} IN ROW EXCLUSIVE MODE`, `SELECT bw_schema_is(${pg.escapeLiteral(version)})`, ...writes] : [];
  const copy = copied ? ['COPY result_chunks (job_id, idx, pos, data, raw_bytes, crc) FROM STDIN (FORMAT binary)'] : [];
  return {
    text: [BATCH_BEGIN, ...records, checkpoint, ...copy, ...more.map(chunk), 'COMMIT'].join(';\n'),
    chunk: copied ? binaryCopyOfChunkRow(b.jobId, b.resourceIndex, copied) : null,
  };
}

function resultPartBytes(part: ResultPart): number {
  return part instanceof Uint8Array ? part.byteLength : part.deflated.byteLength;
}

function codeOf(e: unknown): unknown {
  return (e as { code?: unknown }).code;
}

function int(n: number): string {
  if (!Number.isSafeInteger(n)) throw new Error(`not an integer: ${n}`);
  return String(n);
}

/**
 * A batch's lease, checkpoint and first result piece in one statement. The lease is checked after
 * the batch's records are written rather than before: a worker that lost it rolls them back all
 * the same, and the job's row stays unlocked for its heartbeat meanwhile.
 */
async function checkpointBatch(c: pg.PoolClient, b: BatchCommit, piece: ResultChunk | null): Promise<void> {
  const p = b.progress;
  // Named, as the statements every batch commit runs: prepared once per connection, planned once
  // it settles on a generic plan, instead of parsed and planned per batch (a PostgreSQL profile of
  // a 1M-row insert: 7% of the server's CPU in planning).
  const r = await c.query<{ leased: number; progressed: number }>({
    name: 'batch-checkpoint',
    text: `WITH lease AS (
        UPDATE jobs SET lease_expires_at = $1, interrupted_runs = 0 WHERE id = $2 AND lease_owner = $3 RETURNING 1
      ), progress AS (
        UPDATE job_resources SET status = $4, code = $5, added = $6, updated = $7, skipped = $8, rows_done = $9, result_bytes = $10
        WHERE job_id = $2 AND idx = $11 AND ($12::bigint IS NULL OR result_bytes = $12) RETURNING 1
      ), chunk AS (
        INSERT INTO result_chunks (job_id, idx, pos, data, raw_bytes, crc)
        SELECT $2, $11, $13::bigint, $14::bytea, $15::integer, $16::bigint WHERE $14::bytea IS NOT NULL ON CONFLICT DO NOTHING
      )
      SELECT (SELECT count(*) FROM lease)::int AS leased, (SELECT count(*) FROM progress)::int AS progressed`,
    values: [
      new Date(b.now.getTime() + b.leaseMs), b.jobId, b.workerId,
      p.status, p.code, p.counts.added, p.counts.updated, p.counts.skipped, p.rowsDone, p.resultBytes,
      b.resourceIndex, b.continues, piece?.pos ?? null, piece ? asBuffer(piece.data) : null, piece?.rawBytes ?? null, piece?.crc ?? null,
    ],
  });
  const row = r.rows[0];
  if (row?.leased !== 1) throw new LeaseLostError(b.jobId);
  if (row.progressed !== 1 && b.continues !== null) throw new CheckpointMovedError(b.jobId, b.resourceIndex, b.continues);
}

async function insertResultChunk(c: pg.PoolClient, jobId: string, idx: number, piece: ResultChunk): Promise<void> {
  await c.query({
    name: 'result-chunk-insert',
    text: 'INSERT INTO result_chunks (job_id, idx, pos, data, raw_bytes, crc) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING',
    values: [jobId, idx, piece.pos, asBuffer(piece.data), piece.rawBytes, piece.crc],
  });
}

/** The same bytes as a Buffer, not copied (pg sends a Buffer parameter as bytea). */
function asBuffer(data: Uint8Array): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** A resource's progress as its end records it (batches move theirs in checkpointBatch). */
async function writeProgress(c: pg.PoolClient, jobId: string, idx: number, p: ResourceProgress): Promise<void> {
  await c.query({
    name: 'progress-write',
    text: `UPDATE job_resources SET status = $1, code = $2, added = $3, updated = $4, skipped = $5, rows_done = $6, result_bytes = $7
     WHERE job_id = $8 AND idx = $9`,
    values: [p.status, p.code, p.counts.added, p.counts.updated, p.counts.skipped, p.rowsDone, p.resultBytes, jobId, idx],
  });
}

function toJob(r: Row, progressRows: readonly Row[]): Job {
  return jobFromRows(r, r.specs as ResourceSpec[], progressRows, { date: (v) => (v instanceof Date ? v : null), flag: (v) => v === true });
}
