import pg from 'pg';

export type Queryable = pg.Pool | pg.PoolClient;

/** One pool per process; every store and the blob store share it. */
export function createPool(url: string): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    application_name: 'bulkwright',
    max: 10,
    // A process that hangs inside a transaction must not hold job and record locks forever:
    // PostgreSQL ends such a session, its transaction rolls back, and the lease can expire.
    options: '-c idle_in_transaction_session_timeout=60000',
  });
  // An idle client that loses its connection (server restart) emits here; without a listener the
  // process would crash. The next checkout opens a fresh connection.
  pool.on('error', () => undefined);
  // A client checked out by pool.connect() emits it on the client itself: the pool listens only
  // while the client is idle. Its queries fail with the error (pg fails every pending one first),
  // which is all the caller needs; unheard, the event killed the thread that held the client (a
  // commit thread whose connection PostgreSQL terminated mid-batch, and the job waited forever).
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

// 40001 serialization_failure, 40P01 deadlock_detected: PostgreSQL rolled the whole transaction
// back, so running it again from the start is safe.
const RETRYABLE = new Set(['40001', '40P01']);

function isRetryable(e: unknown): boolean {
  return typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' && RETRYABLE.has(e.code);
}

/**
 * Runs `attempt`, which holds one whole transaction, on a connection of the pool's: rolled back if
 * it throws, and run again from the start after a serialization failure or a deadlock (PostgreSQL
 * rolled all of it back), three times at most.
 */
export async function retryingTransaction<T>(pool: pg.Pool, attempt: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  for (let n = 1; ; n++) {
    const client = await pool.connect();
    let broken = false;
    try {
      return await attempt(client);
    } catch (e) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true;
      }
      if (n < 3 && isRetryable(e)) continue;
      throw e;
    } finally {
      // A connection whose ROLLBACK failed is in an unknown state: drop it rather than reuse it.
      client.release(broken);
    }
  }
}

/**
 * BEGIN for a transaction whose COMMIT does not wait for its WAL to reach the disk. Fit only where
 * a synchronous commit after it makes it durable anyway (flushing a commit's WAL flushes all that
 * came before it), or where losing it to a crash of the machine costs only work that is redone.
 */
export const BEGIN_UNFLUSHED = 'BEGIN; SET LOCAL synchronous_commit = off';

/**
 * Runs `fn` in one transaction on one connection; rolls back on any throw. `begin` may add
 * statements without parameters after BEGIN (SET LOCAL …): they travel in the same round trip.
 */
export function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>, begin = 'BEGIN'): Promise<T> {
  return retryingTransaction(pool, async (client) => {
    await client.query(begin);
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  });
}
