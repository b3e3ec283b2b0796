import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { FsBlobStore } from './blob/fs/fs-blob-store.js';
import type { Config } from './config.js';
import type { Job } from './domain/job.js';
import { buildApp } from './http/app.js';
import { bulkWriteRoutes } from './http/routes/bulk-write.js';
import { oauthRoutes } from './http/routes/oauth.js';
import { recordRoutes } from './http/routes/records.js';
import { JobRunner } from './ingest/job-runner.js';
import type { BlobStore } from './ports/blob-store.js';
import type { Store } from './ports/store.js';
import { CallbackService } from './services/callback-service.js';
import { JobService } from './services/job-service.js';
import { MetadataService } from './services/metadata-service.js';
import { OAuthService } from './services/oauth-service.js';
import { RecordService } from './services/record-service.js';
import { SchemaService } from './services/schema-service.js';
import type { ModuleSpec } from './domain/standard-modules.js';
import { SetupService, type SetupResult } from './services/setup-service.js';
import { TokenService } from './services/token-service.js';
import { UploadService } from './services/upload-service.js';
import { SqliteStore } from './store/sqlite/sqlite-store.js';
import { JobWorker } from './worker/job-worker.js';

export interface Bulkwright {
  readonly config: Config;
  readonly store: Store;
  readonly blobs: BlobStore;
  readonly tokens: TokenService;
  readonly jobs: JobService;
  readonly setup: SetupResult;
  readonly app: FastifyInstance;
  readonly worker: JobWorker | null;
  readonly callbacks: CallbackService;
  readonly oauth: OAuthService;
  /** Starts listening; returns the base URL. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

type LogFn = (level: 'info' | 'warn' | 'error', msg: string) => void;

export function openStores(config: Config): { store: Store; blobs: BlobStore } {
  mkdirSync(config.dataDir, { recursive: true });
  return {
    store: new SqliteStore(path.join(config.dataDir, 'bulkwright.db')),
    blobs: new FsBlobStore(path.join(config.dataDir, 'blobs')),
  };
}

/** The composition root: stores → services → worker → HTTP app. */
export async function createBulkwright(config: Config, schema: readonly ModuleSpec[] = []): Promise<Bulkwright> {
  const { store, blobs } = openStores(config);
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
  const downloadUrl = (job: Pick<Job, 'id' | 'orgId'>): string => `${baseUrl}/v2/crm/${job.orgId}/bulk-write/${job.id}/${job.id}.zip`;
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
  let worker: JobWorker | null = null;
  const jobs = new JobService(store, blobs, { limits: config.limits, downloadUrl, onJobCreated: () => worker?.wake() });
  const uploads = new UploadService(store, blobs, { limits: config.limits, uploadErrorStatus: config.uploadErrorStatus });
  const app = await buildApp({
    routes: [
      ...bulkWriteRoutes({ uploads, jobs, orgTimeZone, uploadErrorStatus: config.uploadErrorStatus }),
      ...recordRoutes({ records: new RecordService(store), metadata: new MetadataService(store) }),
      ...oauthRoutes(oauth),
    ],
    tokens,
    maxUploadBytes: config.limits.maxZipBytes,
    maxJsonBytes: 4 * 1024 * 1024,
    orgTimeZone,
    logger: { level: config.logLevel, stream: process.stderr },
  });
  const log: LogFn = (level, msg) => app.log[level](msg);
  const callbacks = new CallbackService(store, {
    attempts: config.callbacks.attempts,
    backoffMs: (n) => config.callbacks.backoffBaseMs * 2 ** (n - 1),
    timeoutMs: config.callbacks.timeoutMs,
    log,
  });
  const runner = new JobRunner({
    store,
    blobs,
    limits: config.limits,
    batchSize: config.worker.batchSize,
    leaseMs: config.worker.leaseMs,
    downloadUrl,
    log,
  });
  if (config.worker.enabled) {
    worker = new JobWorker({ store, runner, callbacks, concurrency: config.worker.concurrency, leaseMs: config.worker.leaseMs, pollMs: config.worker.pollMs, log });
  }

  return {
    config, store, blobs, tokens, jobs, setup, app, worker, callbacks, oauth,
    async listen() {
      const address = await app.listen({ host: config.host, port: config.port });
      const url = new URL(address);
      const listening = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${url.port}`;
      if (!config.publicUrl) baseUrl = listening;
      worker?.start();
      await callbacks.resumePending();
      return listening;
    },
    async close() {
      await worker?.stop();
      await callbacks.stop();
      await app.close();
      await store.close();
    },
  };
}
