import type Database from 'better-sqlite3';

/** Versioned schema; PRAGMA user_version says how many have been applied. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE orgs (id TEXT PRIMARY KEY, name TEXT NOT NULL, time_zone TEXT NOT NULL, created_at INTEGER NOT NULL);
  CREATE TABLE users (
    id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES orgs(id), name TEXT NOT NULL, email TEXT NOT NULL COLLATE NOCASE,
    role TEXT NOT NULL, active INTEGER NOT NULL DEFAULT 1, UNIQUE (org_id, email));
  CREATE TABLE tokens (
    hash TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES orgs(id), user_id TEXT NOT NULL REFERENCES users(id),
    scopes TEXT NOT NULL, label TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER, revoked_at INTEGER);
  CREATE TABLE modules (
    id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES orgs(id), api_name TEXT NOT NULL COLLATE NOCASE,
    singular_label TEXT NOT NULL, plural_label TEXT NOT NULL, custom INTEGER NOT NULL, table_name TEXT NOT NULL,
    UNIQUE (org_id, api_name));
  CREATE TABLE fields (
    id TEXT PRIMARY KEY, module_id TEXT NOT NULL REFERENCES modules(id), api_name TEXT NOT NULL, label TEXT NOT NULL,
    data_type TEXT NOT NULL, length INTEGER, mandatory INTEGER NOT NULL, is_unique INTEGER NOT NULL,
    read_only INTEGER NOT NULL, lookup_module TEXT, picklist TEXT NOT NULL, is_name INTEGER NOT NULL, position INTEGER NOT NULL,
    UNIQUE (module_id, api_name));
  CREATE TABLE files (
    id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES orgs(id), user_id TEXT NOT NULL, blob_key TEXT NOT NULL,
    size INTEGER NOT NULL, sha256 TEXT NOT NULL, upload_name TEXT NOT NULL, csv_name TEXT NOT NULL, header TEXT NOT NULL,
    delimiter TEXT NOT NULL, encoding TEXT NOT NULL, created_at INTEGER NOT NULL);
  CREATE TABLE jobs (
    id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES orgs(id), created_by_id TEXT NOT NULL, created_by_name TEXT NOT NULL,
    created_at INTEGER NOT NULL, operation TEXT NOT NULL, ignore_empty INTEGER NOT NULL, requested_encoding TEXT,
    character_encoding TEXT, callback_url TEXT, status TEXT NOT NULL, result_key TEXT, failure TEXT, finished_at INTEGER,
    lease_owner TEXT, lease_expires_at INTEGER, specs TEXT NOT NULL);
  CREATE INDEX jobs_runnable ON jobs (status, created_at) WHERE status IN ('ADDED', 'INPROGRESS');
  CREATE INDEX jobs_by_org ON jobs (org_id, created_at);
  CREATE TABLE job_resources (
    job_id TEXT NOT NULL REFERENCES jobs(id), idx INTEGER NOT NULL, status TEXT NOT NULL, code TEXT NOT NULL,
    added INTEGER NOT NULL, updated INTEGER NOT NULL, skipped INTEGER NOT NULL, rows_done INTEGER NOT NULL,
    result_bytes INTEGER NOT NULL, PRIMARY KEY (job_id, idx));
  CREATE TABLE callbacks (
    id TEXT PRIMARY KEY, job_id TEXT NOT NULL, url TEXT NOT NULL, body TEXT NOT NULL, attempts INTEGER NOT NULL,
    state TEXT NOT NULL, last_error TEXT, updated_at INTEGER);
  `,
  `
  CREATE TABLE oauth_clients (
    id TEXT PRIMARY KEY, secret_hash TEXT NOT NULL, org_id TEXT NOT NULL REFERENCES orgs(id), user_id TEXT NOT NULL,
    name TEXT NOT NULL, created_at INTEGER NOT NULL);
  CREATE TABLE oauth_grants (
    hash TEXT PRIMARY KEY, kind TEXT NOT NULL, client_id TEXT NOT NULL REFERENCES oauth_clients(id), scopes TEXT NOT NULL,
    expires_at INTEGER, used_at INTEGER, created_at INTEGER NOT NULL);
  `,
  // Deliveries are claimed one attempt at a time, so that of several processes exactly one makes
  // each attempt, and a retry waits in the table (next_attempt_at) rather than in a process.
  `
  ALTER TABLE callbacks ADD COLUMN next_attempt_at INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE callbacks ADD COLUMN claim_owner TEXT;
  ALTER TABLE callbacks ADD COLUMN claim_until INTEGER;
  CREATE INDEX callbacks_pending ON callbacks (next_attempt_at) WHERE state = 'pending';
  `,
  // A batch's result lines commit with its checkpoint (BatchCommit.resultLines), until the job's
  // end zips them; they were a file appended beside the database, which no transaction covered.
  `
  CREATE TABLE result_chunks (
    job_id TEXT NOT NULL, idx INTEGER NOT NULL, pos INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (job_id, idx, pos));
  `,
  // A batch's result lines are kept deflated (ports/store.ts DeflatedLines): what they inflate to
  // and its CRC-32. NULL: the lines as they are (a header, an earlier version's batches).
  // Jobs count their interrupted runs (ports/store.ts ClaimedJob).
  `
  ALTER TABLE result_chunks ADD COLUMN raw_bytes INTEGER;
  ALTER TABLE result_chunks ADD COLUMN crc INTEGER;
  ALTER TABLE jobs ADD COLUMN interrupted_runs INTEGER NOT NULL DEFAULT 0;
  `,
];

/**
 * Applies each pending migration in an IMMEDIATE transaction that re-reads the version first:
 * processes opening a new data dir together (serve and worker) then apply each exactly once.
 */
export function migrate(db: Database.Database): void {
  for (;;) {
    const applied = db.transaction(() => {
      const v = db.pragma('user_version', { simple: true }) as number;
      // A newer version's data dir: this one would misread what it cannot know (PostgreSQL refuses the same).
      if (v > MIGRATIONS.length) {
        throw new Error(`the data dir has schema version ${v}; this Bulkwright knows only ${MIGRATIONS.length}: upgrade it`);
      }
      if (v >= MIGRATIONS.length) return false;
      db.exec(MIGRATIONS[v] as string);
      db.pragma(`user_version = ${v + 1}`);
      return true;
    }).immediate();
    if (!applied) return;
  }
}
