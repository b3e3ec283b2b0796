import type Database from 'better-sqlite3';
import type { CallbackAttempt, CallbackClaim, CallbackDelivery } from '../../ports/store.js';

type Row = Record<string, unknown>;
const DUE = `state = 'pending' AND next_attempt_at <= ? AND (claim_until IS NULL OR claim_until < ?)`;

/**
 * The callbacks table as a queue of attempts: a process claims a due delivery for one attempt and
 * lets it go when recording the outcome, so that of several processes sharing the data dir exactly
 * one makes each attempt (services/callback-service.ts).
 */
export class SqliteCallbackQueue {
  private readonly insert: Database.Statement;
  private readonly anyDue: Database.Statement;
  private readonly due: Database.Statement;
  private readonly take: Database.Statement;
  private readonly outcome: Database.Statement;
  private readonly letGo: Database.Statement;
  private readonly pending: Database.Statement;

  /** The callbacks table must exist (migrations applied). */
  constructor(private readonly db: Database.Database) {
    this.insert = db.prepare(
      "INSERT INTO callbacks (id, job_id, url, body, attempts, state, updated_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, 'pending', ?, 0)",
    );
    this.anyDue = db.prepare(`SELECT 1 FROM callbacks WHERE ${DUE} LIMIT 1`);
    this.due = db.prepare(`SELECT * FROM callbacks WHERE ${DUE} ORDER BY next_attempt_at, rowid LIMIT ?`);
    this.take = db.prepare('UPDATE callbacks SET claim_owner = ?, claim_until = ? WHERE id = ?');
    this.outcome = db.prepare(
      `UPDATE callbacks SET attempts = attempts + 1, state = ?, last_error = ?, updated_at = ?, next_attempt_at = ?,
         claim_owner = NULL, claim_until = NULL WHERE id = ? AND claim_owner = ?`,
    );
    this.letGo = db.prepare('UPDATE callbacks SET claim_owner = NULL, claim_until = NULL WHERE id = ? AND claim_owner = ?');
    this.pending = db.prepare("SELECT count(*) AS n FROM callbacks WHERE state = 'pending'");
  }

  /** Records a delivery, due at once and held by no one (inside the transaction that ends its job). */
  enqueue(d: CallbackDelivery): void {
    this.insert.run(d.id, d.jobId, d.url, d.body, d.attempts, Date.now());
  }

  claim(claim: CallbackClaim, now: Date, limit: number): CallbackDelivery[] {
    const t = now.getTime();
    // Looked for outside a write transaction first: an idle poll must not take SQLite's write lock.
    if (!this.anyDue.get(t, t)) return [];
    // IMMEDIATE: the write lock is taken before the read, so two processes cannot both take a row.
    return this.db.transaction(() => {
      const rows = this.due.all(t, t, limit) as Row[];
      for (const r of rows) this.take.run(claim.owner, claim.until.getTime(), r.id);
      return rows.map(toDelivery);
    }).immediate();
  }

  record(id: string, owner: string, a: CallbackAttempt): void {
    const state = a.delivered ? 'delivered' : a.failedForGood ? 'failed' : 'pending';
    this.outcome.run(state, a.error, a.at.getTime(), a.retryAt?.getTime() ?? 0, id, owner);
  }

  release(id: string, owner: string): void {
    this.letGo.run(id, owner);
  }

  countPending(): number {
    return Number((this.pending.get() as Row).n);
  }
}

function toDelivery(r: Row): CallbackDelivery {
  return { id: String(r.id), jobId: String(r.job_id), url: String(r.url), body: String(r.body), attempts: Number(r.attempts) };
}
