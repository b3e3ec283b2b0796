import { randomInt } from 'node:crypto';
import type pg from 'pg';
import { composeId, ID_COUNTER_SPAN } from '../../domain/ids.js';
import type { Queryable } from './pg-pool.js';

/** Counters one nextval() reserves: the sequence steps by this much (migrations.ts). */
export const ID_BLOCK = 1000;
/** Blocks one reservation takes at least: an insert job asks once per 10,000 records, not per batch. */
const RESERVE_BLOCKS = 10;

/**
 * 19-digit ids (domain/ids.ts): the installation's prefix from `meta`, the counter from the
 * `id_counter` sequence, whose every value n reserves the block n … n + ID_BLOCK - 1. nextval() is
 * atomic across sessions and never rolled back, so ids are unique across processes, and an id of
 * an aborted batch is simply never used. Blocks reserved and not used yet serve this process's next
 * calls; those left when it stops are never handed out.
 */
export class PgIdAllocator {
  /** Counters reserved and not handed out yet, ascending: [next, end) per block. */
  private readonly blocks: { next: number; end: number }[] = [];
  private available = 0;
  /** A reservation under way through the pool, started before the blocks run out. */
  private prefetch: Promise<void> | null = null;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly prefix: number,
  ) {}

  static async open(pool: pg.Pool): Promise<PgIdAllocator> {
    // Two processes starting on an empty database race here; ON CONFLICT keeps the first prefix.
    await pool.query("INSERT INTO meta (key, value) VALUES ('id_prefix', $1) ON CONFLICT (key) DO NOTHING", [
      String(randomInt(1_000_000, 9_000_000)),
    ]);
    const { rows } = await pool.query<{ value: string }>("SELECT value FROM meta WHERE key = 'id_prefix'");
    return new PgIdAllocator(pool, Number(rows[0]?.value));
  }

  /**
   * `count` new ids, ascending, so records of one batch sort in input order by id, as on SQLite.
   * Called with the pool (an insert job's batches), the next reservation starts while a few
   * batches' worth are left: a batch that waited for its round trip waited for two processes to
   * get a core on a busy machine (1.2–1.8 s per 1M rows, in ~1–15 ms waits).
   */
  async allocate(db: Queryable, count: number): Promise<string[]> {
    if (count <= 0) return [];
    while (this.available < count) {
      // Through the pool, the reservation under way is awaited rather than joined by another; a
      // transaction's client reserves on its own (waiting for the pool there could starve it).
      if (this.prefetch && db === this.pool) await this.prefetch;
      else await this.reserve(db, Math.max(RESERVE_BLOCKS, Math.ceil((count - this.available) / ID_BLOCK)));
    }
    const counters: number[] = new Array(count);
    for (let i = 0; i < count; ) {
      const block = this.blocks[0] as { next: number; end: number };
      while (i < count && block.next < block.end) counters[i++] = block.next++;
      if (block.next === block.end) this.blocks.shift();
    }
    this.available -= count;
    if (db === this.pool && this.prefetch === null && this.available < (RESERVE_BLOCKS * ID_BLOCK) / 2) {
      const prefetch = this.reserve(this.pool, RESERVE_BLOCKS).finally(() => {
        this.prefetch = null;
      });
      // Its failure reaches the batch that awaits it; until then it must not count as unhandled.
      prefetch.catch(() => undefined);
      this.prefetch = prefetch;
    }
    return counters.map((c) => composeId(this.prefix, c));
  }

  /** Adds `blocks` new blocks, kept in ascending order whatever order reservations end in. */
  private async reserve(db: Queryable, blocks: number): Promise<void> {
    // Named: every reservation of an insert job runs it (see job-queue.ts checkpointBatch).
    const { rows } = await db.query<{ n: string }>({ name: 'ids-reserve', text: "SELECT nextval('id_counter')::text AS n FROM generate_series(1, $1)", values: [blocks] });
    const starts = rows.map((r) => Number(r.n)).sort((x, y) => x - y);
    if ((starts[starts.length - 1] ?? 0) + ID_BLOCK > Number(ID_COUNTER_SPAN)) throw new Error('id space exhausted');
    for (const start of starts) this.blocks.push({ next: start, end: start + ID_BLOCK });
    this.blocks.sort((a, b) => a.next - b.next);
    this.available += starts.length * ID_BLOCK;
  }
}
