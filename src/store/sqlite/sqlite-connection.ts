import Database from 'better-sqlite3';
import { foldKey } from '../../domain/metadata.js';
import { migrate } from './migrations.js';
import { isSqliteBusy } from './sqlite-errors.js';

const READ_CACHE_LIMIT = 10_000;
/** How long a write waits for another connection's write lock before SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;
/** WAL pages (8 KB) past which a commit checkpoints, when no idle moment came first. */
const WAL_AUTOCHECKPOINT_PAGES = 100_000;
/** Never notified: Atomics.wait on it is a sleep. */
const PAUSE = new Int32Array(new SharedArrayBuffer(4));

/**
 * One SQLite connection as the store uses it: WAL mode, a statement cache, and a read cache that
 * is dropped as soon as anything writes.
 */
export class SqliteConnection {
  readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  private localWrites = 0;
  private dataVersionNow: number | null = null;
  private stamp = { dataVersion: -1, localWrites: -1 };
  private readonly dataVersionStmt: Database.Statement;

  constructor(file: string, cacheMb: number) {
    this.db = new Database(file);
    // 8 KB pages for a new database (an existing one keeps its size; WAL mode fixes it at
    // creation): half the WAL frames per record written, and two write calls per frame (measured:
    // 1M-row insert +2.7, +4.3, +6.8% in alternating runs; 16 KB gave no more; upsert unchanged).
    this.db.pragma('page_size = 8192');
    this.db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode keeps commits atomic and durable against a process crash; only an OS crash
    // can lose the last commits, which the checkpoint design tolerates (a batch is redone).
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // Checkpoints wait for the commit thread to be idle (SqliteStore.checkpointIdle), not for the
    // WAL to pass a size in the middle of a job: there each stopped the commit that crossed the mark
    // for a copy of its 10,000 pages and two fsyncs while the job thread waited (a 1M-row insert ran
    // ~10% faster without; docs/performance.md). This mark only bounds a WAL that is never idle
    // (~800 MB); set on every connection, as whichever commits past it runs the checkpoint. A WAL
    // reset after a checkpoint is cut back to 64 MB on disk.
    this.db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
    this.db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
    this.db.pragma('foreign_keys = ON');
    // 8 MB a connection, the commit thread's included (commit-thread-entry.ts says why not 16).
    // (Each connection has its own; SQLite's default is 2 MB. Pages past the cache come from the
    // OS's file cache: a bigger cache bought little and cost peak memory. A connection's cache is
    // emptied whenever another connection has committed since its last transaction.)
    this.db.pragma(`cache_size = -${cacheMb * 1024}`);
    this.db.pragma('temp_store = MEMORY');
    this.db.function('fold', { deterministic: true }, (v: unknown) => (v === null ? null : foldKey(String(v))));
    migrate(this.db);
    this.dataVersionStmt = this.db.prepare('PRAGMA data_version').pluck();
  }

  /**
   * Runs a short write as soon as the write lock is free, polling it every 0.2 ms: SQLite's own busy
   * handler sleeps 1, 2, 5, 10 ms… between tries and overshoots the commit it waits for (the job
   * thread's id reservations wait behind the commit thread's batches).
   */
  writeSoon<T>(write: () => T, timeoutMs = BUSY_TIMEOUT_MS): T {
    this.db.pragma('busy_timeout = 0');
    try {
      const until = performance.now() + timeoutMs;
      for (;;) {
        try {
          return write();
        } catch (e) {
          if (!isSqliteBusy(e) || performance.now() > until) throw e;
          Atomics.wait(PAUSE, 0, 0, 0.2);
        }
      }
    } finally {
      this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    }
  }

  /** Statements are compiled once per connection: preparing took a sixth of a job-details answer. */
  sql(text: string): Database.Statement {
    let stmt = this.statements.get(text);
    if (!stmt) {
      stmt = this.db.prepare(text);
      this.statements.set(text, stmt);
    }
    if (!stmt.reader) this.localWrites++;
    return stmt;
  }

  /**
   * What the database holds, as this connection knows it: a new object whenever `data_version`
   * (another connection's commit) or `localWrites` (this one's writes) moved, the same one otherwise.
   */
  readStamp(): object {
    const dataVersion = this.dataVersion();
    if (this.stamp.dataVersion !== dataVersion || this.stamp.localWrites !== this.localWrites) {
      this.stamp = { dataVersion, localWrites: this.localWrites };
    }
    return this.stamp;
  }

  /**
   * A cache for reads that polls repeat (token, user, org, job), answered from memory while the
   * stamp holds: an idle server answers job details without a query. One cache per kind of read,
   * keyed by the read's own id, so that no key string is built and hashed per read (job-details
   * profiles).
   */
  readCache<T>(): (key: string, load: () => T) => T {
    const entries = new Map<string, { stamp: object; value: T }>();
    return (key, load) => {
      const stamp = this.readStamp();
      const hit = entries.get(key);
      if (hit && hit.stamp === stamp) return hit.value;
      const value = load();
      if (entries.size >= READ_CACHE_LIMIT) entries.clear();
      entries.set(key, { stamp, value });
      return value;
    };
  }

  /**
   * Other connections' commits, read once per turn of the event loop: the reads of one request
   * (token, user, job) then cost one pragma, and see the database as of that turn's start.
   */
  private dataVersion(): number {
    if (this.dataVersionNow === null) {
      // A prepared statement: db.pragma() compiles one per call, a third of a cached poll's store time.
      this.dataVersionNow = this.dataVersionStmt.get() as number;
      setImmediate(() => {
        this.dataVersionNow = null;
      });
    }
    return this.dataVersionNow;
  }
}
