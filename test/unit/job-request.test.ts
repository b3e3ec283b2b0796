import { describe, expect, it } from 'vitest';
import { ZohoError } from '../../src/domain/errors.js';
import { parseJobRequest, parseJsonBody, type JobRequest, type ResourceRequest } from '../../src/domain/job-request.js';
import { eachCase } from './case-table.js';

const FILE_ID = '4150868000005390001';

type Json = Record<string, unknown>;

/** A valid v2.1 insert body for Leads; `resource` overrides patch the first resource. */
function body(top: Json = {}, resource: Json = {}): Json {
  return {
    operation: 'insert',
    resource: [{ type: 'data', module: { api_name: 'Leads' }, file_id: FILE_ID, ...resource }],
    ...top,
  };
}

function withoutKey(obj: Json, key: string): Json {
  const copy = { ...obj };
  delete copy[key];
  return copy;
}

function parsedResource(overrides: Partial<ResourceRequest> = {}): ResourceRequest {
  return { path: '$.resource[0]', moduleApiName: 'Leads', moduleId: null, fileId: FILE_ID, findBy: null, ignoreEmpty: null, fieldMappings: null, ...overrides };
}

interface ErrorShape {
  readonly httpStatus: number;
  readonly code: string;
  readonly message: string;
  readonly details: Json;
}

function thrownBy(call: () => unknown): ErrorShape {
  try {
    call();
  } catch (e) {
    if (!(e instanceof ZohoError)) throw e;
    return { httpStatus: e.httpStatus, code: e.code, message: e.message, details: { ...e.details } };
  }
  throw new Error('expected a ZohoError, but nothing was thrown');
}

const mandatory = (key: string, jsonPath: string): ErrorShape => ({
  httpStatus: 400,
  code: 'MANDATORY_NOT_FOUND',
  message: `required key ${key} is not found in request body.`,
  details: { api_name: key, json_path: jsonPath },
});
const invalidData = (message: string, details: Json): ErrorShape => ({ httpStatus: 400, code: 'INVALID_DATA', message, details });

describe('parseJsonBody', () => {
  it('parses a JSON object', () => {
    expect(parseJsonBody('{"operation":"insert","resource":[]}')).toEqual({ operation: 'insert', resource: [] });
  });

  it('parses JSON that is not an object, leaving the shape to parseJobRequest', () => {
    expect(parseJsonBody('[1]')).toEqual([1]);
  });

  eachCase([
    { spec: 'refuses an empty body', raw: '' },
    { spec: 'refuses a body of blanks', raw: ' \r\n\t' },
  ], ({ raw }) => {
    expect(thrownBy(() => parseJsonBody(raw))).toEqual(invalidData('the request body is empty; a JSON object is expected', { json_path: '$' }));
  });

  it('refuses truncated JSON, quoting the parser', () => {
    expect(thrownBy(() => parseJsonBody('{"operation":'))).toEqual(
      invalidData('the request body is not valid JSON: Unexpected end of JSON input', { json_path: '$' }),
    );
  });
});

describe('parseJobRequest accepts', () => {
  eachCase<{ spec: string; body: Json; expected: JobRequest }>([
    {
      spec: 'a minimal v2.1 insert with module as an object',
      body: body(),
      expected: { operation: 'insert', ignoreEmpty: null, characterEncoding: null, callback: null, resources: [parsedResource()] },
    },
    {
      spec: 'module as a string (v2)',
      body: body({}, { module: 'Leads' }),
      expected: { operation: 'insert', ignoreEmpty: null, characterEncoding: null, callback: null, resources: [parsedResource()] },
    },
    {
      spec: 'module with api_name and id',
      body: body({}, { module: { api_name: 'Leads', id: '4150868000000002175' } }),
      expected: {
        operation: 'insert',
        ignoreEmpty: null,
        characterEncoding: null,
        callback: null,
        resources: [parsedResource({ moduleId: '4150868000000002175' })],
      },
    },
    {
      spec: 'module by id alone, a number read as a digit string',
      body: body({}, { module: { id: 2175 } }),
      expected: {
        operation: 'insert',
        ignoreEmpty: null,
        characterEncoding: null,
        callback: null,
        resources: [parsedResource({ moduleApiName: null, moduleId: '2175' })],
      },
    },
    {
      spec: 'a numeric file_id, read as a digit string',
      body: body({}, { file_id: 5390001 }),
      expected: { operation: 'insert', ignoreEmpty: null, characterEncoding: null, callback: null, resources: [parsedResource({ fileId: '5390001' })] },
    },
    {
      spec: 'ignore_empty at top level and per resource, separately',
      body: body({ ignore_empty: true }, { ignore_empty: false }),
      expected: { operation: 'insert', ignoreEmpty: true, characterEncoding: null, callback: null, resources: [parsedResource({ ignoreEmpty: false })] },
    },
    {
      spec: 'null optional keys as absent',
      body: body({ ignore_empty: null, character_encoding: null, callback: null }, { find_by: null, ignore_empty: null, field_mappings: null }),
      expected: { operation: 'insert', ignoreEmpty: null, characterEncoding: null, callback: null, resources: [parsedResource()] },
    },
    {
      spec: 'character_encoding as given',
      body: body({ character_encoding: 'Shift_JIS' }),
      expected: { operation: 'insert', ignoreEmpty: null, characterEncoding: 'Shift_JIS', callback: null, resources: [parsedResource()] },
    },
    {
      spec: 'a callback, lower-casing its method',
      body: body({ callback: { url: 'https://hooks.zylker.com/bulk?job=1', method: 'POST' } }),
      expected: {
        operation: 'insert',
        ignoreEmpty: null,
        characterEncoding: null,
        callback: { url: 'https://hooks.zylker.com/bulk?job=1', method: 'post' },
        resources: [parsedResource()],
      },
    },
    {
      spec: 'an upsert with find_by and field_mappings passed through unchecked',
      body: body({ operation: 'upsert' }, { find_by: 'Email', field_mappings: [{ api_name: 'Email', index: 0 }, 'later checked'] }),
      expected: {
        operation: 'upsert',
        ignoreEmpty: null,
        characterEncoding: null,
        callback: null,
        resources: [parsedResource({ findBy: 'Email', fieldMappings: [{ api_name: 'Email', index: 0 }, 'later checked'] })],
      },
    },
    {
      spec: 'an update by id',
      body: body({ operation: 'update' }, { find_by: 'id' }),
      expected: { operation: 'update', ignoreEmpty: null, characterEncoding: null, callback: null, resources: [parsedResource({ findBy: 'id' })] },
    },
  ], ({ body: input, expected }) => {
    expect(parseJobRequest(input)).toEqual(expected);
  });

  it('gives each resource its JSON path', () => {
    const two = { ...body(), resource: [{ type: 'data', module: 'Leads', file_id: '1' }, { type: 'data', module: 'Contacts', file_id: '2' }] };
    expect(parseJobRequest(two).resources.map((r) => [r.path, r.moduleApiName, r.fileId])).toEqual([
      ['$.resource[0]', 'Leads', '1'],
      ['$.resource[1]', 'Contacts', '2'],
    ]);
  });
});

describe('parseJobRequest refuses', () => {
  const resource0 = (key: string): string => `$.resource[0].${key}`;
  eachCase<{ spec: string; body: unknown; expected: ErrorShape }>([
    { spec: 'an array body', body: [], expected: invalidData('the request body must be a JSON object', { json_path: '$' }) },
    { spec: 'a null body', body: null, expected: invalidData('the request body must be a JSON object', { json_path: '$' }) },
    { spec: 'a string body', body: 'insert', expected: invalidData('the request body must be a JSON object', { json_path: '$' }) },
    { spec: 'a body without operation', body: withoutKey(body(), 'operation'), expected: mandatory('operation', '$.operation') },
    { spec: 'a null operation', body: body({ operation: null }), expected: mandatory('operation', '$.operation') },
    {
      spec: 'an unknown operation',
      body: body({ operation: 'delete' }),
      expected: invalidData('invalid value "delete" for operation; expected one of insert, update, upsert', { api_name: 'operation', json_path: '$.operation' }),
    },
    {
      spec: 'an upper-case operation',
      body: body({ operation: 'INSERT' }),
      expected: invalidData('invalid value "INSERT" for operation; expected one of insert, update, upsert', { api_name: 'operation', json_path: '$.operation' }),
    },
    {
      spec: 'a numeric operation',
      body: body({ operation: 1 }),
      expected: invalidData('invalid value 1 for operation; expected one of insert, update, upsert', { api_name: 'operation', json_path: '$.operation' }),
    },
    {
      spec: 'a string ignore_empty',
      body: body({ ignore_empty: 'true' }),
      expected: invalidData('ignore_empty must be true or false', { api_name: 'ignore_empty', json_path: '$.ignore_empty' }),
    },
    {
      spec: 'an empty character_encoding',
      body: body({ character_encoding: ' ' }),
      expected: invalidData('character_encoding must be a non-empty string', { api_name: 'character_encoding', json_path: '$.character_encoding' }),
    },
    {
      spec: 'a numeric character_encoding',
      body: body({ character_encoding: 65001 }),
      expected: invalidData('character_encoding must be a non-empty string', { api_name: 'character_encoding', json_path: '$.character_encoding' }),
    },
    {
      spec: 'a callback given as a string',
      body: body({ callback: 'https://hooks.zylker.com/bulk' }),
      expected: invalidData('callback must be an object with url and method', { api_name: 'callback', json_path: '$.callback' }),
    },
    { spec: 'a callback without url', body: body({ callback: { method: 'post' } }), expected: mandatory('url', '$.callback.url') },
    { spec: 'a callback with an empty url', body: body({ callback: { url: '', method: 'post' } }), expected: mandatory('url', '$.callback.url') },
    {
      spec: 'a callback to an ftp URL',
      body: body({ callback: { url: 'ftp://zylker.com/x', method: 'post' } }),
      expected: {
        httpStatus: 400,
        code: 'INVALID_CALLBACK_URL',
        message: "Invalid URL 'ftp://zylker.com/x' for callback.",
        details: { api_name: 'url', json_path: '$.callback.url' },
      },
    },
    {
      spec: 'a callback URL that is not a URL',
      body: body({ callback: { url: 'not a url', method: 'post' } }),
      expected: {
        httpStatus: 400,
        code: 'INVALID_CALLBACK_URL',
        message: "Invalid URL 'not a url' for callback.",
        details: { api_name: 'url', json_path: '$.callback.url' },
      },
    },
    { spec: 'a callback without method', body: body({ callback: { url: 'https://hooks.zylker.com/bulk' } }), expected: mandatory('method', '$.callback.method') },
    {
      spec: 'a GET callback',
      body: body({ callback: { url: 'https://hooks.zylker.com/bulk', method: 'get' } }),
      expected: {
        httpStatus: 400,
        code: 'INVALID_CALLBACK_METHOD',
        message: 'Invalid request method get for callback.',
        details: { supported_callback_methods: ['post'], json_path: '$.callback.method' },
      },
    },
    { spec: 'a body without resource', body: withoutKey(body(), 'resource'), expected: mandatory('resource', '$.resource') },
    {
      spec: 'resource given as an object',
      body: body({ resource: { type: 'data' } }),
      expected: invalidData('resource must be an array of resource objects', { api_name: 'resource', json_path: '$.resource' }),
    },
    {
      spec: 'an empty resource array',
      body: body({ resource: [] }),
      expected: {
        httpStatus: 400,
        code: 'MANDATORY_NOT_FOUND',
        message: 'resource must hold at least one resource object',
        details: { api_name: 'resource', json_path: '$.resource' },
      },
    },
    { spec: 'a resource that is a string', body: body({ resource: ['Leads'] }), expected: invalidData('resource[0] must be a resource object', { json_path: '$.resource[0]' }) },
    { spec: 'a resource without type', body: body({}, { type: undefined }), expected: mandatory('type', resource0('type')) },
    {
      spec: 'a resource of type parent',
      body: body({}, { type: 'parent' }),
      expected: invalidData('invalid value "parent" for type; the only type is data', { api_name: 'type', json_path: resource0('type') }),
    },
    { spec: 'a resource without module', body: body({}, { module: undefined }), expected: mandatory('module', resource0('module')) },
    { spec: 'a module object without api_name or id', body: body({}, { module: {} }), expected: mandatory('api_name', resource0('module.api_name')) },
    {
      spec: 'a numeric module',
      body: body({}, { module: 42 }),
      expected: invalidData('module must be an object with api_name', { api_name: 'module', json_path: resource0('module') }),
    },
    { spec: 'a resource without file_id', body: body({}, { file_id: undefined }), expected: mandatory('file_id', resource0('file_id')) },
    { spec: 'an empty file_id', body: body({}, { file_id: '' }), expected: mandatory('file_id', resource0('file_id')) },
    {
      spec: 'a file_id that is an object',
      body: body({}, { file_id: { id: FILE_ID } }),
      expected: { httpStatus: 400, code: 'INVALID_FILE_ID', message: 'improper file id', details: { api_name: 'file_id', json_path: resource0('file_id') } },
    },
    ...(['update', 'upsert'] as const).map((operation) => ({
      spec: `an ${operation} without find_by`,
      body: body({ operation }),
      expected: {
        httpStatus: 400,
        code: 'MANDATORY_NOT_FOUND',
        message: 'Required key find_by is not available',
        details: { api_name: 'find_by', json_path: resource0('find_by') },
      },
    })),
    {
      spec: 'an empty find_by',
      body: body({ operation: 'update' }, { find_by: '' }),
      expected: invalidData('find_by must be a non-empty string', { api_name: 'find_by', json_path: resource0('find_by') }),
    },
    {
      spec: 'a string ignore_empty on a resource',
      body: body({}, { ignore_empty: 'yes' }),
      expected: invalidData('ignore_empty must be true or false', { api_name: 'ignore_empty', json_path: resource0('ignore_empty') }),
    },
    {
      spec: 'field_mappings given as an object',
      body: body({}, { field_mappings: { api_name: 'Last_Name', index: 0 } }),
      expected: invalidData('field_mappings must be an array', { api_name: 'field_mappings', json_path: resource0('field_mappings') }),
    },
    {
      spec: 'a problem in the second resource, naming its path',
      body: body({ resource: [{ type: 'data', module: 'Leads', file_id: '1' }, { module: 'Leads', file_id: '2' }] }),
      expected: mandatory('type', '$.resource[1].type'),
    },
    {
      spec: 'a missing operation before a missing resource',
      body: {},
      expected: mandatory('operation', '$.operation'),
    },
  ], ({ body: input, expected }) => {
    expect(thrownBy(() => parseJobRequest(input))).toEqual(expected);
  });
});
