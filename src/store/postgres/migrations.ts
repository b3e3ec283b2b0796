import type pg from 'pg';

/**
 * Versioned schema; `schema_migrations` records what has been applied. Never edit a shipped entry:
 * append a new one. Times are timestamptz; record and blob tables are described in
 * docs/architecture.md. Text that SQLite compares with NOCASE gets a unique index on lower().
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  -- Ids of every process come from one sequence, so no two processes can hand out the same id.
  CREATE SEQUENCE id_counter START WITH 1000001 MAXVALUE 999999999999;
  CREATE TABLE orgs (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, time_zone TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL,
    seq BIGINT GENERATED ALWAYS AS IDENTITY);
  CREATE TABLE users (
    id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES orgs(id), name TEXT NOT NULL, email TEXT NOT NULL,
    role TEXT NOT NULL, active BOOLEAN NOT NULL DEFAULT TRUE);
  CREATE UNIQUE INDEX users_email ON users (org_id, lower(email));
  CREATE TABLE tokens (
    hash TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES orgs(id), user_id TEXT NOT NULL REFERENCES users(id),
    scopes TEXT[] NOT NULL, label TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL, expires_at TIMESTAMPTZ, revoked_at TIMESTAMPTZ);
  CREATE INDEX tokens_by_org ON tokens (org_id, created_at);
  CREATE TABLE modules (
    id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES orgs(id), api_name TEXT NOT NULL,
    singular_label TEXT NOT NULL, plural_label TEXT NOT NULL, custom BOOLEAN NOT NULL, table_name TEXT NOT NULL,
    seq BIGINT GENERATED ALWAYS AS IDENTITY);
  CREATE UNIQUE INDEX modules_api_name ON modules (org_id, lower(api_name));
  CREATE TABLE fields (
    id TEXT PRIMARY KEY, module_id TEXT NOT NULL REFERENCES modules(id), api_name TEXT NOT NULL, label TEXT NOT NULL,
    data_type TEXT NOT NULL, length INTEGER, mandatory BOOLEAN NOT NULL, is_unique BOOLEAN NOT NULL,
    read_only BOOLEAN NOT NULL, lookup_module TEXT, picklist JSONB NOT NULL, is_name BOOLEAN NOT NULL, position INTEGER NOT NULL,
    UNIQUE (module_id, api_name));
  CREATE TABLE files (
    id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES orgs(id), user_id TEXT NOT NULL, blob_key TEXT NOT NULL,
    size BIGINT NOT NULL, sha256 TEXT NOT NULL, upload_name TEXT NOT NULL, csv_name TEXT NOT NULL, header TEXT[] NOT NULL,
    delimiter TEXT NOT NULL, encoding TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL);
  CREATE TABLE jobs (
    id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES orgs(id), created_by_id TEXT NOT NULL, created_by_name TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL, operation TEXT NOT NULL, ignore_empty BOOLEAN NOT NULL, requested_encoding TEXT,
    character_encoding TEXT, callback_url TEXT, status TEXT NOT NULL, result_key TEXT, failure TEXT, finished_at TIMESTAMPTZ,
    lease_owner TEXT, lease_expires_at TIMESTAMPTZ, specs JSONB NOT NULL);
  CREATE INDEX jobs_runnable ON jobs (created_at, id) WHERE status IN ('ADDED', 'INPROGRESS');
  CREATE INDEX jobs_by_org ON jobs (org_id, created_at);
  CREATE TABLE job_resources (
    job_id TEXT NOT NULL REFERENCES jobs(id), idx INTEGER NOT NULL, status TEXT NOT NULL, code TEXT NOT NULL,
    added BIGINT NOT NULL, updated BIGINT NOT NULL, skipped BIGINT NOT NULL, rows_done BIGINT NOT NULL,
    result_bytes BIGINT NOT NULL, PRIMARY KEY (job_id, idx));
  CREATE TABLE callbacks (
    id TEXT PRIMARY KEY, job_id TEXT NOT NULL, url TEXT NOT NULL, body TEXT NOT NULL, attempts INTEGER NOT NULL,
    state TEXT NOT NULL, last_error TEXT, updated_at TIMESTAMPTZ, seq BIGINT GENERATED ALWAYS AS IDENTITY);
  CREATE INDEX callbacks_pending ON callbacks (seq) WHERE state = 'pending';
  CREATE TABLE oauth_clients (
    id TEXT PRIMARY KEY, secret_hash TEXT NOT NULL, org_id TEXT NOT NULL REFERENCES orgs(id), user_id TEXT NOT NULL,
    name TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL);
  CREATE TABLE oauth_grants (
    hash TEXT PRIMARY KEY, kind TEXT NOT NULL, client_id TEXT NOT NULL REFERENCES oauth_clients(id), scopes TEXT[] NOT NULL,
    expires_at TIMESTAMPTZ, used_at TIMESTAMPTZ, created_at TIMESTAMPTZ NOT NULL);
  -- Blobs (blob/pg): a blob is a row in blobs plus contiguous byte ranges in blob_chunks keyed by
  -- their start offset. EXTERNAL storage: zips do not compress, and uncompressed out-of-line values
  -- let substring() read only the TOAST slices a ranged read needs. generation fences appenders.
  CREATE TABLE blobs (key TEXT PRIMARY KEY, generation BIGINT NOT NULL DEFAULT 0, created_at TIMESTAMPTZ NOT NULL DEFAULT now());
  CREATE TABLE blob_chunks (key TEXT NOT NULL, pos BIGINT NOT NULL, data BYTEA NOT NULL, PRIMARY KEY (key, pos));
  ALTER TABLE blob_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
  `,
  // Deliveries are claimed one attempt at a time, so that of several processes exactly one makes
  // each attempt, and a retry waits in the table (next_attempt_at) rather than in a process.
  `
  ALTER TABLE callbacks ADD COLUMN next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    ADD COLUMN claim_owner TEXT, ADD COLUMN claim_until TIMESTAMPTZ;
  DROP INDEX callbacks_pending;
  CREATE INDEX callbacks_pending ON callbacks (next_attempt_at) WHERE state = 'pending';
  `,
  // A batch's result lines commit with its checkpoint (BatchCommit.resultLines), until the job's
  // end zips them; they were appended as blob chunks in transactions of their own.
  `
  CREATE TABLE result_chunks (
    job_id TEXT NOT NULL, idx INTEGER NOT NULL, pos BIGINT NOT NULL, data BYTEA NOT NULL, PRIMARY KEY (job_id, idx, pos));
  ALTER TABLE result_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
  `,
  // Record tables' unique indexes become deferrable constraints (see record-columns.ts indexSql).
  `
  DO $$
  DECLARE r record;
  BEGIN
    FOR r IN
      SELECT t.relname AS tbl, i.relname AS idx
      FROM pg_index x
      JOIN pg_class i ON i.oid = x.indexrelid
      JOIN pg_class t ON t.oid = x.indrelid
      WHERE x.indisunique AND NOT x.indisprimary AND t.relname LIKE 'rec\\_%'
        AND t.relnamespace = current_schema()::regnamespace
        AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
    LOOP
      EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I UNIQUE USING INDEX %I DEFERRABLE INITIALLY IMMEDIATE', r.tbl, r.idx, r.idx);
    END LOOP;
  END $$;
  `,
  // Each nextval() reserves a block of 1,000 ids (id-allocator.ts ID_BLOCK): the next value is at
  // least the last one plus 1,000, so blocks never overlap the ids handed out one by one before.
  `
  ALTER SEQUENCE id_counter INCREMENT BY 1000;
  `,
  // A batch's result lines are kept deflated (ports/store.ts DeflatedLines): what they inflate to
  // and its CRC-32. NULL: the lines as they are (a header, an earlier version's batches).
  // Jobs count their interrupted runs (ports/store.ts ClaimedJob).
  `
  ALTER TABLE result_chunks ADD COLUMN IF NOT EXISTS raw_bytes INTEGER, ADD COLUMN IF NOT EXISTS crc BIGINT;
  ALTER TABLE jobs ADD COLUMN IF NOT EXISTS interrupted_runs INTEGER NOT NULL DEFAULT 0;
  `,
  // An insert batch commits in one query (job-queue.ts commitBatch), COMMIT included: the server
  // checks that the schema its COPY was built for is current, and its lease and checkpoint, and
  // fails the query, and so the batch, if any of them moved.
  `
  CREATE OR REPLACE FUNCTION bw_schema_is(version TEXT) RETURNS VOID LANGUAGE plpgsql AS $$
  BEGIN
    IF coalesce((SELECT value FROM meta WHERE key = 'schema_version'), '0') <> version THEN
      RAISE EXCEPTION 'schema changed' USING ERRCODE = 'BW003';
    END IF;
  END $$;
  CREATE OR REPLACE FUNCTION bw_batch_checked(leased BIGINT, progressed BIGINT, must_progress BOOLEAN) RETURNS VOID LANGUAGE plpgsql AS $$
  BEGIN
    IF leased = 0 THEN RAISE EXCEPTION 'lease lost' USING ERRCODE = 'BW001'; END IF;
    IF progressed = 0 AND must_progress THEN RAISE EXCEPTION 'checkpoint moved' USING ERRCODE = 'BW002'; END IF;
  END $$;
  `,
  // Blobs move out of blob_chunks (1 MB values, which TOAST cut into ~2 KB rows with an index and
  // their WAL) into pieces of 8,000 bytes stored in line (PIECE_BYTES, blob/pg/pg-blob-reader.ts),
  // owned by a generation that the blobs row names: a finished write takes its key by changing
  // that row alone, where renaming in-line pieces would rewrite them. It may run again on a schema
  // it has already changed, as tests that take the schema version back run it.
  `
  CREATE SEQUENCE IF NOT EXISTS blob_generations;
  UPDATE blobs SET generation = nextval('blob_generations') WHERE generation = 0;
  ALTER TABLE blobs ALTER COLUMN generation DROP DEFAULT;
  CREATE UNIQUE INDEX IF NOT EXISTS blobs_generation ON blobs (generation);
  CREATE TABLE IF NOT EXISTS blob_pieces (generation BIGINT NOT NULL, pos BIGINT NOT NULL, data BYTEA NOT NULL, PRIMARY KEY (generation, pos));
  ALTER TABLE blob_pieces ALTER COLUMN data SET STORAGE PLAIN;
  DO $$ BEGIN
    IF to_regclass('blob_chunks') IS NOT NULL THEN
      INSERT INTO blob_pieces (generation, pos, data)
        SELECT b.generation, c.pos + s.at, substring(c.data FROM s.at + 1 FOR 8000)
        FROM blobs b JOIN blob_chunks c ON c.key = b.key CROSS JOIN LATERAL generate_series(0, length(c.data) - 1, 8000) AS s(at);
      DROP TABLE blob_chunks;
    END IF;
  END $$;
  `,
];

// pg_advisory_lock key pairs: ASCII "bw" and a number per purpose, so that every Bulkwright process agrees on them.
const LOCK = [0x6277, 1] as const;
/** Held while the first org is created (PostgresStore.createOrg with onlyIfFirst). */
export const FIRST_ORG_LOCK = [0x6277, 2] as const;

/**
 * Applies the pending migrations, each in its own transaction, while holding a session advisory
 * lock so that processes starting together apply each one exactly once.
 * @returns the versions applied now.
 */
export async function migrate(pool: pg.Pool): Promise<number[]> {
  const client = await pool.connect();
  const applied: number[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1, $2)', [...LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())');
    const { rows } = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations');
    const current = rows[0]?.v ?? 0;
    if (current > MIGRATIONS.length) {
      throw new Error(`the database has schema version ${current}; this Bulkwright knows only ${MIGRATIONS.length}: upgrade it`);
    }
    for (let v = current; v < MIGRATIONS.length; v++) {
      await client.query('BEGIN');
      try {
        await client.query(MIGRATIONS[v] as string);
        await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [v + 1]);
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK');
        throw e;
      }
      applied.push(v + 1);
    }
    return applied;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1, $2)', [...LOCK]).catch(() => undefined);
    client.release();
  }
}
