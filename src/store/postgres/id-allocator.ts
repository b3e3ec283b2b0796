import { randomInt } from 'node:crypto';
import type pg from 'pg';
import { composeId, ID_COUNTER_SPAN } from '../../domain/ids.js';
import type { Queryable } from './pg-pool.js';

/** Counters one nextval() reserves: the sequence steps by this much (migrations.ts). */
export const ID_BLOCK = 1000;

/**
 * 19-digit ids (domain/ids.ts): the installation's prefix from `meta`, the counter from the
 * `id_counter` sequence, whose every value n reserves the block n … n + ID_BLOCK - 1. nextval() is
 * atomic across sessions and never rolled back, so ids are unique across processes, and an id of
 * an aborted batch is simply never used. A block's unused rest serves this process's next call:
 * a 2,000-row batch costs PostgreSQL two nextval() calls, not 2,000.
 */
export class PgIdAllocator {
  /** The rest of the last block taken: counters next … end - 1. */
  private next = 0;
  private end = 0;

  private constructor(private readonly prefix: number) {}

  static async open(pool: pg.Pool): Promise<PgIdAllocator> {
    // Two processes starting on an empty database race here; ON CONFLICT keeps the first prefix.
    await pool.query("INSERT INTO meta (key, value) VALUES ('id_prefix', $1) ON CONFLICT (key) DO NOTHING", [
      String(randomInt(1_000_000, 9_000_000)),
    ]);
    const { rows } = await pool.query<{ value: string }>("SELECT value FROM meta WHERE key = 'id_prefix'");
    return new PgIdAllocator(Number(rows[0]?.value));
  }

  /** `count` new ids, ascending, so records of one batch sort in input order by id, as on SQLite. */
  async allocate(db: Queryable, count: number): Promise<string[]> {
    if (count <= 0) return [];
    const counters: number[] = [];
    while (counters.length < count && this.next < this.end) counters.push(this.next++);
    if (counters.length < count) {
      const blocks = Math.ceil((count - counters.length) / ID_BLOCK);
      // Named: every batch of an insert job runs it (see job-queue.ts holdLease).
      const { rows } = await db.query<{ n: string }>({ name: 'ids-reserve', text: "SELECT nextval('id_counter')::text AS n FROM generate_series(1, $1)", values: [blocks] });
      // Blocks come after the rest taken above: counters only grow.
      const starts = rows.map((r) => Number(r.n)).sort((x, y) => x - y);
      if ((starts[starts.length - 1] ?? 0) + ID_BLOCK > Number(ID_COUNTER_SPAN)) throw new Error('id space exhausted');
      for (const start of starts) {
        let c = start;
        while (c < start + ID_BLOCK && counters.length < count) counters.push(c++);
        this.next = c;
        this.end = start + ID_BLOCK;
      }
    }
    return counters.map((c) => composeId(this.prefix, c));
  }
}
