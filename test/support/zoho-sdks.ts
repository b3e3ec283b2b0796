/**
 * Drives the whole bulk-write flow through Zoho's two official JS SDKs, unmodified, so tests can
 * prove the server's answers parse into the SDKs' model classes. Every value handed back is read
 * through the SDK's getters, never from the raw HTTP body. Wire facts: shared/reference/official-sdk-wire.md.
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export type SdkName = 'typescript-sdk-2.1' | 'nodejs-sdk-2.1';
export const SDK_NAMES: readonly SdkName[] = ['typescript-sdk-2.1', 'nodejs-sdk-2.1'];

export interface SdkTarget { baseUrl: string; token: string; orgId: string; workDir: string }
export interface SdkFieldMapping {
  api_name: string; index?: number; format?: string; find_by?: string; module?: string; default_value?: Record<string, unknown>;
}
export interface SdkJobRequest {
  operation: 'insert' | 'update' | 'upsert'; module: string; fileId: string; findBy?: string; ignoreEmpty?: boolean;
  characterEncoding?: string; callback?: { url: string; method: string }; fieldMappings?: SdkFieldMapping[];
}
export interface SdkError { code: string; message: string; details: Record<string, unknown> }

/** The SDK reads a JSON `null` as "absent", so keys whose wire value is null are simply missing here. */
export interface PlainFieldMapping {
  api_name?: string; index?: number; format?: string; find_by?: string; module?: string; default_value?: Record<string, unknown>;
}
export interface PlainFile {
  status?: string; name?: string; added_count?: number; skipped_count?: number; updated_count?: number; total_count?: number;
}
export interface PlainResource {
  status?: string; type?: string; module?: { id?: string; api_name?: string }; field_mappings?: PlainFieldMapping[];
  file?: PlainFile; code?: string;
}
export interface PlainJob {
  status?: string; character_encoding?: string; resource?: PlainResource[]; id?: string; callback?: { url?: string; method?: string };
  result?: { download_url?: string }; created_by?: { id?: string; name?: string }; operation?: string; created_time?: string;
}

export interface SdkDriver {
  readonly name: SdkName;
  /** kind = the class the SDK picked: SuccessResponse ('success') or APIException ('error'). */
  uploadZip(zipPath: string): Promise<{ status: number; body: Record<string, unknown>; kind: 'success' | 'error' }>;
  createJob(req: SdkJobRequest): Promise<{ status: number; kind: 'success' | 'error' } & SdkError>;
  getJob(jobId: string): Promise<{ status: number; kind: 'job' | 'error'; job?: PlainJob; error?: SdkError }>;
  /** Throws if the SDK parsed the answer as an APIException instead of a file. */
  downloadResult(downloadUrl: string): Promise<{ status: number; fileName: string; bytes: Buffer }>;
}

// ---- loose access to SDK objects (the packages ship no usable types for ESM + `any` everywhere) ----
type Obj = Record<string, unknown>;
type Ctor = new (...args: unknown[]) => unknown;

function call(target: unknown, method: string, ...args: unknown[]): unknown {
  const fn = (target as Obj | null | undefined)?.[method];
  if (typeof fn !== 'function') throw new TypeError(`SDK object ${String(target)} has no method ${method}()`);
  return fn.apply(target, args) as unknown;
}
/** A getter on an object that may be absent: missing parents read as undefined, like the SDK's own getters. */
const get = (target: unknown, getter: string): unknown => (target == null ? undefined : call(target, getter));
const exported = (sdk: unknown, dotted: string): unknown =>
  dotted.split('.').reduce<unknown>((o, k) => (o as Obj | undefined)?.[k], sdk);
function cls(sdk: unknown, dotted: string): Ctor {
  const found = exported(sdk, dotted);
  if (typeof found !== 'function') throw new TypeError(`SDK export ${dotted} not found`);
  return found as Ctor;
}
const make = (sdk: unknown, dotted: string, ...args: unknown[]): unknown => new (cls(sdk, dotted))(...args);
const isA = (sdk: unknown, value: unknown, dotted: string): boolean => value instanceof cls(sdk, dotted);

/** Unwraps Choice, BigInt ids, Dates, Maps and Record-like models (e.g. `details.created_by`) into JSON-ish values. */
function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString();
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), plain(x)]));
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') {
    if (typeof (v as Obj).getValue === 'function') return plain(call(v, 'getValue'));
    if (typeof (v as Obj).getKeyValues === 'function') return plain(call(v, 'getKeyValues'));
  }
  return v;
}
const str = (v: unknown): string | undefined => (v == null ? undefined : String(plain(v)));
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
const record = (v: unknown): Record<string, unknown> => {
  const p = plain(v);
  return p !== null && typeof p === 'object' && !Array.isArray(p) ? (p as Record<string, unknown>) : {};
};
/** Drops keys the SDK left undefined so results compare cleanly with `toEqual`. */
function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
const optional = <T>(model: unknown, build: (m: unknown) => T): T | undefined => (model == null ? undefined : build(model));

function toPlainJob(job: unknown): PlainJob {
  const resources = get(job, 'getResource');
  return compact<PlainJob>({
    status: str(get(job, 'getStatus')),
    character_encoding: str(get(job, 'getCharacterEncoding')),
    resource: Array.isArray(resources) ? resources.map((r: unknown) => {
      const maps = get(r, 'getFieldMappings');
      return compact<PlainResource>({
        status: str(get(r, 'getStatus')),
        type: str(get(r, 'getType')),
        module: optional(get(r, 'getModule'), (m) => compact({ id: str(get(m, 'getId')), api_name: str(get(m, 'getAPIName')) })),
        field_mappings: Array.isArray(maps) ? maps.map((f: unknown) => compact<PlainFieldMapping>({
          api_name: str(get(f, 'getAPIName')),
          index: num(get(f, 'getIndex')),
          format: str(get(f, 'getFormat')),
          find_by: str(get(f, 'getFindBy')),
          module: str(get(f, 'getModule')),
          default_value: optional(get(f, 'getDefaultValue'), record),
        })) : undefined,
        file: optional(get(r, 'getFile'), (f) => compact<PlainFile>({
          status: str(get(f, 'getStatus')),
          name: str(get(f, 'getName')),
          added_count: num(get(f, 'getAddedCount')),
          skipped_count: num(get(f, 'getSkippedCount')),
          updated_count: num(get(f, 'getUpdatedCount')),
          total_count: num(get(f, 'getTotalCount')),
        })),
        code: str(get(r, 'getCode')),
      });
    }) : undefined,
    id: str(get(job, 'getId')),
    callback: optional(get(job, 'getCallback'), (c) => compact({ url: str(get(c, 'getUrl')), method: str(get(c, 'getMethod')) })),
    result: optional(get(job, 'getResult'), (r) => compact({ download_url: str(get(r, 'getDownloadUrl')) })),
    created_by: optional(get(job, 'getCreatedBy'), (u) => compact({ id: str(get(u, 'getId')), name: str(get(u, 'getName')) })),
    operation: str(get(job, 'getOperation')),
    created_time: str(get(job, 'getCreatedTime')),
  });
}

/** status/code/message/details of a SuccessResponse or APIException, plus the non-CRM error keys APIException models. */
function actionBody(o: unknown): Record<string, unknown> {
  const body: Record<string, unknown> = {
    status: str(get(o, 'getStatus')), code: str(get(o, 'getCode')), message: str(get(o, 'getMessage')), details: record(get(o, 'getDetails')),
  };
  if (typeof (o as Obj).getXError === 'function') {
    Object.assign(body, {
      'x-error': str(get(o, 'getXError')), info: str(get(o, 'getInfo')), 'x-info': str(get(o, 'getXInfo')),
      http_status: str(get(o, 'getHttpStatus')), ERROR_CODE: num(get(o, 'getErrorCode')), ERROR_MESSAGE: str(get(o, 'getErrorMessage')),
    });
  }
  return compact(body);
}
const sdkError = (o: unknown): SdkError =>
  ({ code: str(get(o, 'getCode')) ?? '', message: str(get(o, 'getMessage')) ?? '', details: record(get(o, 'getDetails')) });

// ---- per-process SDK state ----
// Initializer is a process-wide singleton per SDK, so drivers of one SDK take turns: calls are queued,
// and the SDK is re-initialised only when a different driver (target) than the last one makes a call.
interface SdkState { sdk: unknown; active: object | null; queue: Promise<unknown> }
const states = new Map<SdkName, Promise<SdkState>>();

async function loadSdk(name: SdkName): Promise<unknown> {
  if (name === 'typescript-sdk-2.1') return createRequire(import.meta.url)('@zohocrm/typescript-sdk-2.1') as unknown;
  // A non-literal specifier keeps tsc from looking for typings this ESM package doesn't ship.
  const specifier: string = '@zohocrm/nodejs-sdk-2.1';
  return (await import(specifier)) as unknown;
}

async function initialise(sdk: unknown, name: SdkName, target: SdkTarget): Promise<void> {
  // Explicit paths everywhere: by default the SDKs write tokens and logs next to node_modules.
  const dir = path.join(target.workDir, name);
  mkdirSync(dir, { recursive: true });
  const base = target.baseUrl.replace(/\/+$/, ''); // the SDK concatenates paths, so a trailing slash gives `//crm`
  const token = call(call(make(sdk, 'OAuthBuilder'), 'accessToken', target.token), 'build');
  // typescript-sdk's constructor returns the builder, nodejs-sdk's returns a Promise of it.
  let builder: unknown = await (make(sdk, 'InitializeBuilder') as Promise<unknown>);
  const steps: [string, unknown][] = [
    ['user', make(sdk, 'UserSignature', 'bulkwright@example.com')],
    ['environment', make(sdk, 'Environment', base, `${base}/oauth/v2/token`, base, 'bulkwright')],
    ['token', token],
    ['store', make(sdk, 'FileStore', path.join(dir, 'sdk_tokens.txt'))],
    // No timeout would hang a test forever on a stuck server; GETs get 3 tries of this each.
    ['SDKConfig', call(call(make(sdk, 'SDKConfigBuilder'), 'timeout', 15_000), 'build')],
    ['resourcePath', dir],
    ['logger', call(call(call(make(sdk, 'LogBuilder'), 'level', exported(sdk, 'Levels.INFO')), 'filePath',
      path.join(dir, 'sdk.log')), 'build')],
  ];
  for (const [step, value] of steps) builder = call(builder, step, value);
  // Neither SDK awaits Initializer.initialize() inside initialize(): wait until the singleton holds our token.
  await call(builder, 'initialize');
  const Initializer = cls(sdk, 'Initializer');
  for (const deadline = Date.now() + 10_000; ;) {
    const current = await (call(Initializer, 'getInitializer') as Promise<unknown>);
    if (current != null && call(current, 'getToken') === token) return;
    if (Date.now() > deadline) throw new Error(`${name}: SDK initialisation did not complete`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export async function createSdkDriver(name: SdkName, target: SdkTarget): Promise<SdkDriver> {
  let pending = states.get(name);
  if (!pending) {
    pending = loadSdk(name).then((sdk): SdkState => ({ sdk, active: null, queue: Promise.resolve() }));
    states.set(name, pending);
  }
  const state = await pending;
  const sdk = state.sdk;
  const self = {};
  const run = <T>(fn: (ops: unknown) => Promise<T>): Promise<T> => {
    const next = state.queue.then(async () => {
      if (state.active !== self) {
        state.active = null;
        await initialise(sdk, name, target);
        state.active = self;
      }
      return fn(make(sdk, 'BulkWrite.BulkWriteOperations'));
    });
    state.queue = next.catch(() => undefined);
    return next;
  };
  const response = (r: unknown): { status: number; object: unknown } => {
    const status = Number(call(r, 'getStatusCode'));
    const object = call(r, 'getObject');
    if (object == null) throw new Error(`${name}: the SDK parsed nothing from the HTTP ${status} answer (content type or empty body)`);
    return { status, object };
  };
  await run(async () => undefined); // initialise now, so setup errors surface at creation

  return {
    name,
    uploadZip: (zipPath) => run(async (ops) => {
      const body = make(sdk, 'BulkWrite.FileBodyWrapper');
      call(body, 'setFile', make(sdk, 'StreamWrapper', null, null, zipPath));
      const headers = make(sdk, 'HeaderMap');
      await call(headers, 'add', exported(sdk, 'BulkWrite.UploadFileHeader.FEATURE'), 'bulk-write');
      await call(headers, 'add', exported(sdk, 'BulkWrite.UploadFileHeader.X_CRM_ORG'), target.orgId);
      const { status, object } = response(await call(ops, 'uploadFile', body, headers));
      return { status, body: actionBody(object), kind: isA(sdk, object, 'BulkWrite.APIException') ? 'error' : 'success' };
    }),

    createJob: (req) => run(async (ops) => {
      const resource = make(sdk, 'BulkWrite.Resource');
      const module = make(sdk, 'Modules.Module');
      call(module, 'setAPIName', req.module);
      call(resource, 'setType', make(sdk, 'Choice', 'data'));
      call(resource, 'setModule', module);
      call(resource, 'setFileId', req.fileId);
      if (req.findBy !== undefined) call(resource, 'setFindBy', req.findBy);
      if (req.ignoreEmpty !== undefined) call(resource, 'setIgnoreEmpty', req.ignoreEmpty);
      if (req.fieldMappings) {
        call(resource, 'setFieldMappings', req.fieldMappings.map((m) => {
          const fm = make(sdk, 'BulkWrite.FieldMapping');
          call(fm, 'setAPIName', m.api_name);
          if (m.index !== undefined) call(fm, 'setIndex', m.index);
          if (m.format !== undefined) call(fm, 'setFormat', m.format);
          if (m.find_by !== undefined) call(fm, 'setFindBy', m.find_by);
          if (m.module !== undefined) call(fm, 'setModule', m.module);
          if (m.default_value !== undefined) call(fm, 'setDefaultValue', new Map(Object.entries(m.default_value)));
          return fm;
        }));
      }
      const request = make(sdk, 'BulkWrite.RequestWrapper');
      call(request, 'setOperation', make(sdk, 'Choice', req.operation));
      if (req.characterEncoding !== undefined) call(request, 'setCharacterEncoding', req.characterEncoding);
      if (req.callback) {
        const cb = make(sdk, 'BulkWrite.CallBack');
        call(cb, 'setUrl', req.callback.url);
        call(cb, 'setMethod', make(sdk, 'Choice', req.callback.method));
        call(request, 'setCallback', cb);
      }
      call(request, 'setResource', [resource]);
      const { status, object } = response(await call(ops, 'createBulkWriteJob', request));
      return { status, kind: isA(sdk, object, 'BulkWrite.APIException') ? 'error' : 'success', ...sdkError(object) };
    }),

    getJob: (jobId) => run(async (ops) => {
      // Both SDKs take the id as a BigInt (nodejs-sdk rejects anything else), so a non-digit id throws a
      // SyntaxError here without any request: probe odd ids over raw HTTP instead.
      const { status, object } = response(await call(ops, 'getBulkWriteJobDetails', BigInt(jobId)));
      if (isA(sdk, object, 'BulkWrite.APIException')) return { status, kind: 'error', error: sdkError(object) };
      return { status, kind: 'job', job: toPlainJob(object) };
    }),

    downloadResult: (downloadUrl) => run(async (ops) => {
      const { status, object } = response(await call(ops, 'downloadBulkWriteResult', downloadUrl));
      if (isA(sdk, object, 'BulkWrite.APIException')) {
        const e = sdkError(object);
        throw new Error(`${name}: download answered HTTP ${status} ${e.code}: ${e.message}`);
      }
      const file = call(object, 'getFile');
      const bytes = call(file, 'getStream');
      if (!Buffer.isBuffer(bytes)) throw new Error(`${name}: download gave no bytes`);
      return { status, fileName: str(call(file, 'getName')) ?? '', bytes };
    }),
  };
}
