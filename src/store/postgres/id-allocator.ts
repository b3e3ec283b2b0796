import { randomInt } from 'node:crypto';
import type pg from 'pg';
import { composeId, ID_COUNTER_SPAN } from '../../domain/ids.js';
import type { Queryable } from './pg-pool.js';

/**
 * 19-digit ids (domain/ids.ts): the installation's prefix from `meta`, the counter from the
 * `id_counter` sequence. nextval() is atomic across sessions and never rolled back, so ids are
 * unique across processes, and an id of an aborted batch is simply never used.
 */
export class PgIdAllocator {
  private constructor(private readonly prefix: number) {}

  static async open(pool: pg.Pool): Promise<PgIdAllocator> {
    // Two processes starting on an empty database race here; ON CONFLICT keeps the first prefix.
    await pool.query("INSERT INTO meta (key, value) VALUES ('id_prefix', $1) ON CONFLICT (key) DO NOTHING", [
      String(randomInt(1_000_000, 9_000_000)),
    ]);
    const { rows } = await pool.query<{ value: string }>("SELECT value FROM meta WHERE key = 'id_prefix'");
    return new PgIdAllocator(Number(rows[0]?.value));
  }

  async allocate(db: Queryable, count: number): Promise<string[]> {
    if (count <= 0) return [];
    const { rows } = await db.query<{ n: string }>("SELECT nextval('id_counter')::text AS n FROM generate_series(1, $1)", [count]);
    // Ascending, so records of one batch sort in input order by id, as on SQLite.
    const counters = rows.map((r) => BigInt(r.n)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if ((counters[counters.length - 1] ?? 0n) >= ID_COUNTER_SPAN) throw new Error('id space exhausted');
    return counters.map((c) => composeId(this.prefix, c));
  }
}
