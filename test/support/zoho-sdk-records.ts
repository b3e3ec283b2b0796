/**
 * Reads records and modules back through Zoho's official TypeScript SDK (@zohocrm/typescript-sdk-2.1),
 * unmodified: `RecordOperations.getRecords` and `ModulesOperations.getModules`. The SDK first asks
 * `/crm/v2.1/settings/modules` and `/settings/fields` for field types and converts each value by
 * them, so a read-back here also proves the metadata API's shape. Values are taken only through the
 * SDK's getters. Initialised as test/support/zoho-sdks.ts does it (explicit paths, a timeout).
 */
import { mkdirSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';

export interface SdkReadTarget { baseUrl: string; token: string; workDir: string }

/** A value as the SDK handed it over, made comparable: ids and users and lookups as plain objects. */
export type SdkValue = string | number | boolean | null | SdkValue[] | { [key: string]: SdkValue };

export interface SdkRecordView { readonly id: string; readonly values: Readonly<Record<string, SdkValue>> }

export interface SdkRecordsPage {
  readonly status: number;
  /** Which SDK class the answer became: ResponseWrapper ('records'), APIException ('error') or nothing (204). */
  readonly kind: 'records' | 'error' | 'empty';
  readonly records: SdkRecordView[];
  readonly info: { per_page?: number; count?: number; page?: number; more_records?: boolean } | null;
  readonly error: { code: string; message: string } | null;
}

export interface SdkModuleView { readonly apiName: string; readonly id: string; readonly pluralLabel: string; readonly singularLabel: string }

type Obj = Record<string, unknown>;
type Ctor = new (...args: unknown[]) => unknown;

const sdk = createRequire(import.meta.url)('@zohocrm/typescript-sdk-2.1') as Obj;

function exported(dotted: string): unknown {
  return dotted.split('.').reduce<unknown>((o, k) => (o as Obj | undefined)?.[k], sdk);
}
function cls(dotted: string): Ctor {
  const found = exported(dotted);
  if (typeof found !== 'function') throw new TypeError(`SDK export ${dotted} not found`);
  return found as Ctor;
}
const make = (dotted: string, ...args: unknown[]): unknown => new (cls(dotted))(...args);
const isA = (value: unknown, dotted: string): boolean => value instanceof cls(dotted);
function call(target: unknown, method: string, ...args: unknown[]): unknown {
  const fn = (target as Obj | null | undefined)?.[method];
  if (typeof fn !== 'function') throw new TypeError(`SDK object has no method ${method}`);
  return (fn as (...a: unknown[]) => unknown).apply(target, args);
}

let active: string | null = null;

/** Initialises the SDK for a target once per process (the SDK's Initializer is a process-wide singleton). */
async function initialise(target: SdkReadTarget): Promise<void> {
  if (active === target.token) return;
  const dir = path.join(target.workDir, 'typescript-sdk-2.1-records');
  mkdirSync(dir, { recursive: true });
  const base = target.baseUrl.replace(/\/+$/, '');
  const token = call(call(make('OAuthBuilder'), 'accessToken', target.token), 'build');
  let builder: unknown = make('InitializeBuilder');
  const steps: [string, unknown][] = [
    ['user', make('UserSignature', 'bulkwright@example.com')],
    ['environment', make('Environment', base, `${base}/oauth/v2/token`, base, 'bulkwright')],
    ['token', token],
    ['store', make('FileStore', path.join(dir, 'sdk_tokens.txt'))],
    ['SDKConfig', call(call(make('SDKConfigBuilder'), 'timeout', 15_000), 'build')],
    ['resourcePath', dir],
    ['logger', call(call(call(make('LogBuilder'), 'level', exported('Levels.INFO')), 'filePath', path.join(dir, 'sdk.log')), 'build')],
  ];
  for (const [step, value] of steps) builder = call(builder, step, value);
  await call(builder, 'initialize');
  // initialize() does not await the Initializer: wait until the singleton holds our token.
  for (const deadline = Date.now() + 10_000; ;) {
    const current = await (call(cls('Initializer'), 'getInitializer') as Promise<unknown>);
    if (current != null && call(current, 'getToken') === token) break;
    if (Date.now() > deadline) throw new Error('typescript-sdk-2.1: SDK initialisation did not complete');
    await new Promise((r) => setTimeout(r, 5));
  }
  active = target.token;
}

/** Turns what a Record's getKeyValue gave into comparable data, through the SDK models' getters. */
function plain(v: unknown): SdkValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map(plain);
  if (isA(v, 'Users.User')) {
    return { name: plain(call(v, 'getName')), id: plain(call(v, 'getId')), email: plain(call(v, 'getEmail')) };
  }
  if (isA(v, 'Records.Record')) {
    return { name: plain(call(v, 'getKeyValue', 'name')), id: plain(call(v, 'getId')) };
  }
  if (isA(v, 'Choice')) return plain(call(v, 'getValue'));
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), plain(x)]));
  return `[${(v as object).constructor.name}]`;
}

/** `RecordOperations.getRecords(module)`, every record's fields read with `getKeyValue`. */
export async function sdkGetRecords(target: SdkReadTarget, module: string, fields: readonly string[], params: Record<string, string | number> = {}): Promise<SdkRecordsPage> {
  await initialise(target);
  const paramMap = make('ParameterMap');
  const Param = exported('Records.GetRecordsParam') as Obj;
  for (const [name, value] of Object.entries(params)) {
    const key = Param[name.toUpperCase()];
    if (key === undefined) throw new Error(`GetRecordsParam has no ${name}`);
    await call(paramMap, 'add', key, value);
  }
  const response = await (call(make('Records.RecordOperations'), 'getRecords', module, paramMap) as Promise<unknown>);
  const status = Number(call(response, 'getStatusCode'));
  const object = call(response, 'getObject');
  if (object == null) return { status, kind: 'empty', records: [], info: null, error: null };
  if (isA(object, 'Records.APIException')) {
    return { status, kind: 'error', records: [], info: null, error: { code: String(plain(call(object, 'getCode'))), message: String(call(object, 'getMessage')) } };
  }
  const data = call(object, 'getData') as unknown[];
  const info = call(object, 'getInfo');
  return {
    status,
    kind: 'records',
    records: data.map((r) => ({
      id: String(plain(call(r, 'getId'))),
      values: Object.fromEntries(fields.map((f) => [f, plain(call(r, 'getKeyValue', f))])),
    })),
    info: info == null ? null : {
      per_page: call(info, 'getPerPage') as number, count: call(info, 'getCount') as number,
      page: call(info, 'getPage') as number, more_records: call(info, 'getMoreRecords') as boolean,
    },
    error: null,
  };
}

/** `ModulesOperations.getModules()`, read with the Module model's getters. */
export async function sdkGetModules(target: SdkReadTarget): Promise<{ status: number; modules: SdkModuleView[] }> {
  await initialise(target);
  const response = await (call(make('Modules.ModulesOperations'), 'getModules') as Promise<unknown>);
  const status = Number(call(response, 'getStatusCode'));
  const object = call(response, 'getObject');
  if (!isA(object, 'Modules.ResponseWrapper')) throw new Error(`getModules answered HTTP ${status} without modules`);
  const modules = call(object, 'getModules') as unknown[];
  return {
    status,
    modules: modules.map((m) => ({
      apiName: String(call(m, 'getAPIName')),
      id: String(plain(call(m, 'getId'))),
      pluralLabel: String(call(m, 'getPluralLabel')),
      singularLabel: String(call(m, 'getSingularLabel')),
    })),
  };
}

/**
 * What the SDK learned about fields from `/settings/modules` and `/settings/fields`: its cache file in
 * the resource path, module (lower-cased) → field api_name → the SDK's description of the field.
 */
export async function sdkLearnedFields(target: SdkReadTarget): Promise<Record<string, Record<string, Record<string, unknown>>>> {
  const dir = path.join(target.workDir, 'typescript-sdk-2.1-records', 'resources');
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json'));
  if (files.length !== 1) throw new Error(`expected one SDK field cache in ${dir}, found ${files.join(', ')}`);
  return JSON.parse(await readFile(path.join(dir, files[0] as string), 'utf8')) as Record<string, Record<string, Record<string, unknown>>>;
}
