import path from 'node:path';
import { PROFILES, type Limits, type ProfileName } from './domain/limits.js';

/** One typed configuration, from flags and env (DESIGN.md "Configuration"). */
export interface Config {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  /** PostgreSQL to use instead of the embedded SQLite in dataDir (records, jobs and blobs). */
  readonly databaseUrl: string | null;
  /** Base of `download_url`; null = the listening address. */
  readonly publicUrl: string | null;
  readonly profile: ProfileName;
  readonly limits: Limits;
  readonly uploadErrorStatus: number;
  readonly timeZone: string;
  readonly worker: { readonly enabled: boolean; readonly mode: 'thread' | 'inline'; readonly concurrency: number; readonly batchSize: number; readonly leaseMs: number; readonly pollMs: number };
  readonly callbacks: { readonly attempts: number; readonly backoffBaseMs: number; readonly timeoutMs: number };
  readonly logLevel: string;
  /** Registers the fixed-bytes baseline route of `npm run bench`. */
  readonly benchRoutes: boolean;
}

export interface ConfigInput {
  readonly host?: string;
  readonly port?: number;
  readonly dataDir?: string;
  readonly databaseUrl?: string | null;
  readonly publicUrl?: string | null;
  readonly profile?: ProfileName;
  readonly limits?: Partial<Limits>;
  readonly uploadErrorStatus?: number;
  readonly timeZone?: string;
  readonly worker?: Partial<Config['worker']>;
  readonly callbacks?: Partial<Config['callbacks']>;
  readonly logLevel?: string;
  readonly benchRoutes?: boolean;
}

export function buildConfig(input: ConfigInput, env: NodeJS.ProcessEnv = process.env): Config {
  const profile = input.profile ?? (env.BULKWRIGHT_PROFILE as ProfileName | undefined) ?? 'zoho';
  if (!(profile in PROFILES)) throw new Error(`unknown profile ${profile}; use zoho or unlimited`);
  return {
    host: input.host ?? env.BULKWRIGHT_HOST ?? '127.0.0.1',
    port: input.port ?? numberFrom(env.BULKWRIGHT_PORT) ?? 8080,
    dataDir: path.resolve(input.dataDir ?? env.BULKWRIGHT_DATA_DIR ?? './data'),
    databaseUrl: input.databaseUrl ?? (env.DATABASE_URL || null),
    publicUrl: (input.publicUrl ?? env.BULKWRIGHT_PUBLIC_URL ?? null)?.replace(/\/+$/, '') ?? null,
    profile,
    limits: { ...PROFILES[profile], ...input.limits },
    uploadErrorStatus: input.uploadErrorStatus ?? numberFrom(env.BULKWRIGHT_UPLOAD_ERROR_STATUS) ?? 200,
    timeZone: input.timeZone ?? env.BULKWRIGHT_TIME_ZONE ?? Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC',
    worker: { enabled: true, mode: 'thread', concurrency: 1, batchSize: 2000, leaseMs: 30_000, pollMs: 500, ...input.worker },
    callbacks: { attempts: 4, backoffBaseMs: 1000, timeoutMs: 10_000, ...input.callbacks },
    logLevel: input.logLevel ?? env.BULKWRIGHT_LOG_LEVEL ?? 'info',
    benchRoutes: input.benchRoutes ?? false,
  };
}

function numberFrom(v: string | undefined): number | undefined {
  return v === undefined || v === '' ? undefined : Number(v);
}

/** The config as printed at start; the database password is masked. */
export function describeConfig(c: Config): string {
  const l = c.limits;
  const store = c.databaseUrl ? `database=${maskPassword(c.databaseUrl)}` : `data-dir=${c.dataDir}`;
  return `${store} profile=${c.profile} max-zip=${l.maxZipBytes} max-rows=${l.maxRowsPerCsv} max-columns=${l.maxColumns} worker=${c.worker.enabled ? `on(x${c.worker.concurrency})` : 'off'} time-zone=${c.timeZone}`;
}

export function maskPassword(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable database url)';
  }
}
