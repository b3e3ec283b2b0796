import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { FsBlobStore } from './blob/fs/fs-blob-store.js';
import { PgBlobStore } from './blob/pg/pg-blob-store.js';
import type { Config } from './config.js';
import type { Job } from './domain/job.js';
import { buildApp } from './http/app.js';
import { adminRoutes } from './http/routes/admin.js';
import { benchRoutes } from './http/routes/bench.js';
import { bulkWriteRoutes } from './http/routes/bulk-write.js';
import { oauthRoutes } from './http/routes/oauth.js';
import { recordRoutes } from './http/routes/records.js';
import type { BlobStore } from './ports/blob-store.js';
import type { Store } from './ports/store.js';
import { JobService } from './services/job-service.js';
import { MetadataService } from './services/metadata-service.js';
import { OAuthService } from './services/oauth-service.js';
import { RecordService } from './services/record-service.js';
import { SchemaService } from './services/schema-service.js';
import type { ModuleSpec } from './domain/standard-modules.js';
import { SetupService, type SetupResult } from './services/setup-service.js';
import { TokenService } from './services/token-service.js';
import { UploadService } from './services/upload-service.js';
import { createPool } from './store/postgres/pg-pool.js';
import { PostgresStore } from './store/postgres/postgres-store.js';
import { SqliteStore } from './store/sqlite/sqlite-store.js';
import { downloadUrlFor, startJobProcessing, type JobProcessing, type LogFn } from './worker/job-processing.js';
import { startThreadedJobProcessing } from './worker/threaded-job-processing.js';

export interface Bulkwright {
  readonly config: Config;
  readonly store: Store;
  readonly blobs: BlobStore;
  readonly tokens: TokenService;
  readonly jobs: JobService;
  readonly setup: SetupResult;
  readonly app: FastifyInstance;
  /** Job processing, once listening (null with --no-worker). */
  readonly processing: JobProcessing | null;
  readonly oauth: OAuthService;
  /** Starts listening; returns the base URL. */
  listen(): Promise<string>;
  close(): Promise<void>;
}


/**
 * SQLite and files in the data dir by default; with a database URL, PostgreSQL holds everything,
 * blobs included, so that any number of processes on any machines share one state.
 */
/** @param options.writerThread commit record batches on a thread of their own (the job thread uses it; store/commit-thread.ts). */
export async function openStores(config: Config, options: { writerThread?: boolean } = {}): Promise<{ store: Store; blobs: BlobStore }> {
  if (config.databaseUrl) {
    const pool = createPool(config.databaseUrl);
    try {
      const store = await PostgresStore.open(pool, { commitThreadUrl: options.writerThread === true ? config.databaseUrl : undefined });
      const blobs = new PgBlobStore(pool);
      await blobs.sweepAbandonedWrites();
      return { store, blobs };
    } catch (e) {
      await pool.end().catch(() => undefined);
      throw e;
    }
  }
  mkdirSync(config.dataDir, { recursive: true });
  const store = new SqliteStore(path.join(config.dataDir, 'bulkwright.db'), { writerThread: options.writerThread === true });
  await store.whenStarted();
  return { store, blobs: new FsBlobStore(path.join(config.dataDir, 'blobs')) };
}

/** The composition root: stores → services → worker → HTTP app. */
/**
 * @param options.onJobThreadFailure called when the job thread dies (`serve` exits, so that a
 * supervisor restarts it rather than the server accepting jobs nothing will run).
 */
export async function createBulkwright(
  config: Config,
  schema: readonly ModuleSpec[] = [],
  options: { onJobThreadFailure?: (e: Error) => void } = {},
): Promise<Bulkwright> {
  const { store, blobs } = await openStores(config);
  const tokens = new TokenService(store);
  const setup = await new SetupService(store, tokens).ensureOrg({
    orgName: 'Bulkwright',
    adminName: 'Bulkwright Admin',
    adminEmail: 'admin@bulkwright.local',
    timeZone: config.timeZone,
  });
  if (schema.length > 0) {
    const schemas = new SchemaService(store);
    for (const org of await store.listOrgs()) await schemas.apply(org.id, schema);
  }

  let baseUrl = config.publicUrl ?? '';
  const downloadUrl = (job: Pick<Job, 'id' | 'orgId'>): string => downloadUrlFor(baseUrl)(job);
  const zoneCache = new Map<string, string>();
  const orgTimeZone = async (orgId: string): Promise<string> => {
    let tz = zoneCache.get(orgId);
    if (!tz) {
      tz = (await store.getOrg(orgId))?.timeZone ?? 'UTC';
      zoneCache.set(orgId, tz);
    }
    return tz;
  };

  const oauth = new OAuthService(store, tokens, () => baseUrl);
  const jobs = new JobService(store, blobs, { limits: config.limits, downloadUrl, onJobCreated: () => processing?.wake() });
  const uploads = new UploadService(store, blobs, { limits: config.limits, uploadErrorStatus: config.uploadErrorStatus });
  const app = await buildApp({
    routes: [
      ...bulkWriteRoutes({ uploads, jobs, orgTimeZone, uploadErrorStatus: config.uploadErrorStatus }),
      ...recordRoutes({ records: new RecordService(store), metadata: new MetadataService(store) }),
      ...oauthRoutes(oauth),
      ...(config.benchRoutes ? benchRoutes() : []),
      ...adminRoutes(jobs),
    ],
    tokens,
    maxUploadBytes: config.limits.maxZipBytes,
    maxJsonBytes: 4 * 1024 * 1024,
    orgTimeZone,
    readStamp: () => store.readStamp(),
    logger: { level: config.logLevel, stream: process.stderr },
  });
  const log: LogFn = (level, msg) => app.log[level](msg);
  let processing: JobProcessing | null = null;
  return {
    config, store, blobs, tokens, jobs, setup, app, oauth,
    get processing() {
      return processing;
    },
    async listen() {
      const address = await app.listen({ host: config.host, port: config.port });
      const url = new URL(address);
      const listening = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${url.port}`;
      if (!config.publicUrl) baseUrl = listening;
      if (config.worker.enabled) {
        processing = config.worker.mode === 'thread'
          ? startThreadedJobProcessing(config, baseUrl, log, options.onJobThreadFailure)
          : startJobProcessing(config, { store, blobs }, baseUrl, log);
      }
      return listening;
    },
    async close() {
      await processing?.stop();
      await app.close();
      await store.close();
    },
  };
}
