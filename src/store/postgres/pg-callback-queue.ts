import type pg from 'pg';
import type { CallbackAttempt, CallbackClaim, CallbackDelivery } from '../../ports/store.js';
import type { Queryable } from './pg-pool.js';

type Row = Record<string, unknown>;

/**
 * The callbacks table as a queue of attempts: a process claims due deliveries (FOR UPDATE SKIP
 * LOCKED, as jobs) for one attempt and lets each go when recording the outcome, so that of many
 * processes exactly one makes each attempt (services/callback-service.ts).
 */
export class PgCallbackQueue {
  constructor(private readonly pool: pg.Pool) {}

  async claim(claim: CallbackClaim, now: Date, limit: number): Promise<CallbackDelivery[]> {
    // One statement: the subquery locks the rows it picks, skipping rows another claimer holds.
    const { rows } = await this.pool.query<Row>(
      `UPDATE callbacks SET claim_owner = $1, claim_until = $2
       WHERE id IN (SELECT id FROM callbacks
                    WHERE state = 'pending' AND next_attempt_at <= $3 AND (claim_until IS NULL OR claim_until < $3)
                    ORDER BY next_attempt_at, seq LIMIT $4 FOR UPDATE SKIP LOCKED)
       RETURNING *`,
      [claim.owner, claim.until, now, limit],
    );
    return rows.map(toDelivery);
  }

  async record(id: string, owner: string, a: CallbackAttempt): Promise<void> {
    const state = a.delivered ? 'delivered' : a.failedForGood ? 'failed' : 'pending';
    await this.pool.query(
      `UPDATE callbacks SET attempts = attempts + 1, state = $1, last_error = $2, updated_at = $3, next_attempt_at = coalesce($4::timestamptz, $3),
         claim_owner = NULL, claim_until = NULL WHERE id = $5 AND claim_owner = $6`,
      [state, a.error, a.at, a.retryAt, id, owner],
    );
  }

  async release(id: string, owner: string): Promise<void> {
    await this.pool.query('UPDATE callbacks SET claim_owner = NULL, claim_until = NULL WHERE id = $1 AND claim_owner = $2', [id, owner]);
  }

  async countPending(): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>("SELECT count(*) AS n FROM callbacks WHERE state = 'pending'");
    return Number(rows[0]?.n ?? 0);
  }
}

/** Records a delivery, due at once and held by no one, in the transaction that ends its job. */
export async function insertCallback(db: Queryable, d: CallbackDelivery): Promise<void> {
  await db.query(
    `INSERT INTO callbacks (id, job_id, url, body, attempts, state, updated_at, next_attempt_at)
     VALUES ($1, $2, $3, $4, $5, 'pending', now(), to_timestamp(0))`,
    [d.id, d.jobId, d.url, d.body, d.attempts],
  );
}

function toDelivery(r: Row): CallbackDelivery {
  return { id: String(r.id), jobId: String(r.job_id), url: String(r.url), body: String(r.body), attempts: Number(r.attempts) };
}
