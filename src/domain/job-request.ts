import { Errors, keyDetails } from './errors.js';
import { OPERATIONS, type Callback, type Operation } from './job.js';

/** A create-job body whose shape is checked; modules, files and mappings are checked next. */
export interface JobRequest {
  readonly operation: Operation;
  readonly ignoreEmpty: boolean | null;
  readonly characterEncoding: string | null;
  readonly callback: Callback | null;
  readonly resources: readonly ResourceRequest[];
}

export interface ResourceRequest {
  readonly path: string;
  readonly moduleApiName: string | null;
  readonly moduleId: string | null;
  readonly fileId: string;
  readonly findBy: string | null;
  readonly ignoreEmpty: boolean | null;
  /** null = no `field_mappings`: the CSV header names the fields. */
  readonly fieldMappings: readonly unknown[] | null;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses the body as JSON whatever its Content-Type (curl's docs sample sends none; CONTRACT.md). */
export function parseJsonBody(raw: string): unknown {
  if (raw.trim() === '') throw Errors.invalidData('the request body is empty; a JSON object is expected', { json_path: '$' });
  try {
    return JSON.parse(raw);
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw Errors.invalidData(`the request body is not valid JSON: ${reason}`, { json_path: '$' });
  }
}

export function parseJobRequest(body: unknown): JobRequest {
  if (!isObject(body)) throw Errors.invalidData('the request body must be a JSON object', { json_path: '$' });

  if (body.operation === undefined || body.operation === null) throw Errors.requiredKey('operation', '$.operation');
  if (typeof body.operation !== 'string' || !OPERATIONS.includes(body.operation as Operation)) {
    throw Errors.invalidData(
      `invalid value ${JSON.stringify(body.operation)} for operation; expected one of insert, update, upsert`,
      keyDetails('operation', '$.operation'),
    );
  }
  const operation = body.operation as Operation;
  const ignoreEmpty = optionalBoolean(body.ignore_empty, 'ignore_empty', '$.ignore_empty');
  const characterEncoding = optionalString(body.character_encoding, 'character_encoding', '$.character_encoding');
  const callback = body.callback === undefined || body.callback === null ? null : parseCallback(body.callback);

  if (body.resource === undefined || body.resource === null) throw Errors.requiredKey('resource', '$.resource');
  if (!Array.isArray(body.resource)) {
    throw Errors.invalidData('resource must be an array of resource objects', keyDetails('resource', '$.resource'));
  }
  if (body.resource.length === 0) {
    throw Errors.mandatoryNotFound('resource must hold at least one resource object', keyDetails('resource', '$.resource'));
  }
  const resources = body.resource.map((r, i) => parseResource(r, `$.resource[${i}]`, operation));
  return { operation, ignoreEmpty, characterEncoding, callback, resources };
}

function parseCallback(raw: unknown): Callback {
  if (!isObject(raw)) throw Errors.invalidData('callback must be an object with url and method', keyDetails('callback', '$.callback'));
  if (raw.url === undefined || raw.url === null || raw.url === '') throw Errors.requiredKey('url', '$.callback.url');
  if (typeof raw.url !== 'string' || !isHttpUrl(raw.url)) {
    throw Errors.invalidCallbackUrl(String(raw.url), keyDetails('url', '$.callback.url'));
  }
  if (raw.method === undefined || raw.method === null || raw.method === '') throw Errors.requiredKey('method', '$.callback.method');
  if (typeof raw.method !== 'string' || raw.method.toLowerCase() !== 'post') throw Errors.invalidCallbackMethod(String(raw.method));
  return { url: raw.url, method: 'post' };
}

function isHttpUrl(text: string): boolean {
  try {
    const u = new URL(text);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}

function parseResource(raw: unknown, path: string, operation: Operation): ResourceRequest {
  if (!isObject(raw)) throw Errors.invalidData(`${path.slice(2)} must be a resource object`, { json_path: path });

  if (raw.type === undefined || raw.type === null) throw Errors.requiredKey('type', `${path}.type`);
  if (raw.type !== 'data') {
    throw Errors.invalidData(`invalid value ${JSON.stringify(raw.type)} for type; the only type is data`, keyDetails('type', `${path}.type`));
  }

  if (raw.module === undefined || raw.module === null) throw Errors.requiredKey('module', `${path}.module`);
  let moduleApiName: string | null = null;
  let moduleId: string | null = null;
  // v2 sends module as a string, v2.1 as {api_name, id?} (reference §12); both are read.
  if (typeof raw.module === 'string') moduleApiName = raw.module;
  else if (isObject(raw.module)) {
    moduleApiName = typeof raw.module.api_name === 'string' ? raw.module.api_name : null;
    moduleId = typeof raw.module.id === 'string' || typeof raw.module.id === 'number' ? String(raw.module.id) : null;
    if (moduleApiName === null && moduleId === null) throw Errors.requiredKey('api_name', `${path}.module.api_name`);
  } else {
    throw Errors.invalidData('module must be an object with api_name', keyDetails('module', `${path}.module`));
  }

  if (raw.file_id === undefined || raw.file_id === null || raw.file_id === '') throw Errors.requiredKey('file_id', `${path}.file_id`);
  if (typeof raw.file_id !== 'string' && typeof raw.file_id !== 'number') {
    throw Errors.invalidFileId(keyDetails('file_id', `${path}.file_id`));
  }

  const findBy = optionalString(raw.find_by, 'find_by', `${path}.find_by`);
  if (findBy === null && operation !== 'insert') {
    throw Errors.mandatoryNotFound('Required key find_by is not available', keyDetails('find_by', `${path}.find_by`));
  }
  const ignoreEmpty = optionalBoolean(raw.ignore_empty, 'ignore_empty', `${path}.ignore_empty`);

  let fieldMappings: unknown[] | null = null;
  if (raw.field_mappings !== undefined && raw.field_mappings !== null) {
    if (!Array.isArray(raw.field_mappings)) {
      throw Errors.invalidData('field_mappings must be an array', keyDetails('field_mappings', `${path}.field_mappings`));
    }
    fieldMappings = raw.field_mappings;
  }
  return { path, moduleApiName, moduleId, fileId: String(raw.file_id), findBy, ignoreEmpty, fieldMappings };
}

function optionalBoolean(v: unknown, key: string, path: string): boolean | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'boolean') throw Errors.invalidData(`${key} must be true or false`, keyDetails(key, path));
  return v;
}

function optionalString(v: unknown, key: string, path: string): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string' || v.trim() === '') throw Errors.invalidData(`${key} must be a non-empty string`, keyDetails(key, path));
  return v;
}
