import { describe, expect, it } from 'vitest';
import { ZohoError } from '../../src/domain/errors.js';
import type { FieldMapping, Operation } from '../../src/domain/job.js';
import type { ResourceRequest } from '../../src/domain/job-request.js';
import { PROFILES } from '../../src/domain/limits.js';
import { resolveMappings, type MappingContext, type ResolvedResource } from '../../src/domain/mapping-rules.js';
import type { ModuleDef } from '../../src/domain/metadata.js';
import { eachCase } from './case-table.js';
import { field, moduleDef } from './metadata-builders.js';

const OWNER = field('Owner', 'ownerlookup');

const ACCOUNTS = moduleDef('Accounts', '4150868000000002177', [
  OWNER,
  field('Account_Name', 'text', { length: 200, mandatory: true, isNameField: true }),
  field('Account_Number', 'text', { length: 40, unique: true }),
  field('Phone', 'phone', { length: 30 }),
]);

const CONTACTS = moduleDef('Contacts', '4150868000000002179', [
  OWNER,
  field('First_Name', 'text', { length: 40 }),
  field('Last_Name', 'text', { length: 80, mandatory: true, isNameField: true }),
  field('Email', 'email', { length: 100, unique: true }),
  field('Account_Name', 'lookup', { lookupModule: 'Accounts' }),
  field('Vendor_Name', 'lookup', { lookupModule: 'Vendors' }),
  field('Date_of_Birth', 'date'),
  field('Last_Contacted', 'datetime'),
  field('Created_Time', 'datetime', { readOnly: true }),
]);

const LEADS = moduleDef('Leads', '4150868000000002175', [
  OWNER,
  field('Last_Name', 'text', { length: 80, mandatory: true, isNameField: true }),
  field('Company', 'text', { length: 200, mandatory: true }),
  field('Email', 'email', { length: 100, unique: true }),
  field('Mobile', 'phone', { length: 30 }),
  field('Lead_Source', 'picklist', { picklistValues: ['-None-', 'Cold Call', 'Web Download'] }),
  field('No_of_Employees', 'integer', { length: 9 }),
]);

const MODULES: readonly ModuleDef[] = [ACCOUNTS, CONTACTS, LEADS];

const CONTACTS_HEADER = ['Last_Name', 'Email', 'Account', 'Owner Email', 'Birthday'];

function context(module: ModuleDef, header: readonly string[], overrides: Partial<MappingContext> = {}): MappingContext {
  return {
    operation: 'insert',
    module,
    header,
    fileName: `${module.apiName.toLowerCase()}.csv`,
    limits: PROFILES.zoho,
    timeZone: 'Asia/Kolkata',
    moduleByName: (apiName) => MODULES.find((m) => m.apiName === apiName),
    ...overrides,
  };
}

function resource(fieldMappings: readonly unknown[] | null, findBy: string | null = null): ResourceRequest {
  return { path: '$.resource[0]', moduleApiName: 'Contacts', moduleId: null, fileId: '4150868000005390001', findBy, ignoreEmpty: null, fieldMappings };
}

function mapping(apiName: string, index: number | null, extra: Partial<FieldMapping> = {}): FieldMapping {
  return { apiName, index, format: null, findBy: null, module: null, defaultValue: null, ...extra };
}

interface ErrorShape {
  readonly httpStatus: number;
  readonly code: string;
  readonly message: string;
  readonly details: Record<string, unknown>;
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

const error = (code: string, message: string, details: Record<string, unknown>): ErrorShape => ({ httpStatus: 400, code, message, details });
const at = (j: number, key: string): string => `$.resource[0].field_mappings[${j}].${key}`;

/** Contacts mappings with Last_Name at 0 and `entry` second, at field_mappings[1]. */
const contactsWith = (entry: unknown): ResourceRequest => resource([{ api_name: 'Last_Name', index: 0 }, entry]);
const secondOf = (result: ResolvedResource): FieldMapping | undefined => result.mappings[1];

describe('resolveMappings with explicit field_mappings', () => {
  it('echoes every mapping with all six keys', () => {
    const result = resolveMappings(resource([{ api_name: 'Last_Name', index: 0 }, { api_name: 'Email', index: 1 }]), context(CONTACTS, CONTACTS_HEADER));
    expect(result).toEqual({ findBy: null, mappings: [mapping('Last_Name', 0), mapping('Email', 1)] });
  });

  eachCase([
    { spec: 'spells a field name given in another case canonically', entry: { api_name: 'first_name', index: 1 }, expected: mapping('First_Name', 1) },
    { spec: 'reads an index given as a digit string', entry: { api_name: 'Email', index: '4' }, expected: mapping('Email', 4) },
    { spec: 'keeps a usable date format', entry: { api_name: 'Date_of_Birth', index: 4, format: 'yyyy/MM/dd' }, expected: mapping('Date_of_Birth', 4, { format: 'yyyy/MM/dd' }) },
    {
      spec: 'keeps a usable date-time format',
      entry: { api_name: 'Last_Contacted', index: 4, format: 'dd-MM-yyyy HH:mm:ss' },
      expected: mapping('Last_Contacted', 4, { format: 'dd-MM-yyyy HH:mm:ss' }),
    },
    { spec: 'finds a lookup by id', entry: { api_name: 'Account_Name', index: 2, find_by: 'id' }, expected: mapping('Account_Name', 2, { findBy: 'id' }) },
    {
      spec: 'finds a lookup by the name field of its module',
      entry: { api_name: 'Account_Name', index: 2, find_by: 'Account_Name' },
      expected: mapping('Account_Name', 2, { findBy: 'Account_Name' }),
    },
    {
      spec: 'finds a lookup by a unique field of its module',
      entry: { api_name: 'Account_Name', index: 2, find_by: 'Account_Number' },
      expected: mapping('Account_Name', 2, { findBy: 'Account_Number' }),
    },
    {
      spec: 'spells a lookup find_by given in another case canonically',
      entry: { api_name: 'Account_Name', index: 2, find_by: 'account_number' },
      expected: mapping('Account_Name', 2, { findBy: 'Account_Number' }),
    },
    {
      spec: 'keeps a lookup module named as a string, spelled as the field declares it',
      entry: { api_name: 'Account_Name', index: 2, find_by: 'id', module: 'accounts' },
      expected: mapping('Account_Name', 2, { findBy: 'id', module: 'Accounts' }),
    },
    {
      spec: 'keeps a lookup module named as an object',
      entry: { api_name: 'Account_Name', index: 2, find_by: 'id', module: { api_name: 'Accounts' } },
      expected: mapping('Account_Name', 2, { findBy: 'id', module: 'Accounts' }),
    },
    { spec: 'maps Owner without find_by (user id)', entry: { api_name: 'Owner', index: 3 }, expected: mapping('Owner', 3) },
    { spec: 'finds Owner by id', entry: { api_name: 'Owner', index: 3, find_by: 'id' }, expected: mapping('Owner', 3, { findBy: 'id' }) },
    { spec: 'finds Owner by email', entry: { api_name: 'Owner', index: 3, find_by: 'email' }, expected: mapping('Owner', 3, { findBy: 'email' }) },
    { spec: 'lower-cases an Owner find_by', entry: { api_name: 'Owner', index: 3, find_by: 'EMAIL' }, expected: mapping('Owner', 3, { findBy: 'email' }) },
    {
      spec: 'takes a default_value without index, as a constant',
      entry: { api_name: 'Email', default_value: { value: 'unknown@zylker.com' } },
      expected: mapping('Email', null, { defaultValue: { value: 'unknown@zylker.com' } }),
    },
    {
      spec: 'takes a default_value next to an index, for empty cells',
      entry: { api_name: 'Email', index: 1, default_value: { value: 'unknown@zylker.com' } },
      expected: mapping('Email', 1, { defaultValue: { value: 'unknown@zylker.com' } }),
    },
    {
      spec: 'checks a date default_value against the mapping format',
      entry: { api_name: 'Date_of_Birth', index: 4, format: 'dd/MM/yyyy', default_value: { value: '31/12/1990' } },
      expected: mapping('Date_of_Birth', 4, { format: 'dd/MM/yyyy', defaultValue: { value: '31/12/1990' } }),
    },
  ], ({ entry, expected }) => {
    expect(secondOf(resolveMappings(contactsWith(entry), context(CONTACTS, CONTACTS_HEADER)))).toEqual(expected);
  });

  it('keeps a numeric default_value as given', () => {
    const result = resolveMappings(
      resource([{ api_name: 'Last_Name', index: 0 }, { api_name: 'Company', index: 1 }, { api_name: 'No_of_Employees', default_value: { value: 250 } }]),
      context(LEADS, ['Last_Name', 'Company']),
    );
    expect(result.mappings[2]).toEqual(mapping('No_of_Employees', null, { defaultValue: { value: 250 } }));
  });

  eachCase<{ spec: string; entry: unknown; expected: ErrorShape }>([
    { spec: 'refuses a mapping that is not an object', entry: 'Email', expected: error('INVALID_DATA', 'resource[0].field_mappings[1] must be an object', { json_path: '$.resource[0].field_mappings[1]' }) },
    {
      spec: 'refuses a mapping without api_name',
      entry: { index: 1 },
      expected: error('MANDATORY_NOT_FOUND', 'required key api_name is not found in request body.', { api_name: 'api_name', json_path: at(1, 'api_name') }),
    },
    { spec: 'refuses a numeric api_name', entry: { api_name: 7, index: 1 }, expected: error('INVALID_DATA', 'api_name must be a string', { api_name: 'api_name', json_path: at(1, 'api_name') }) },
    {
      spec: 'refuses an unknown api_name (the SDK message)',
      entry: { api_name: 'ast_Name', index: 1 },
      expected: error('INVALID_FIELD', 'invalid mapping. invalid api_name ast_Name.', { api_name: 'ast_Name', json_path: at(1, 'api_name') }),
    },
    {
      spec: 'refuses a read-only system field',
      entry: { api_name: 'Created_Time', index: 1 },
      expected: error('INVALID_FIELD', 'invalid mapping. Created_Time is a read-only system field.', { api_name: 'Created_Time', json_path: at(1, 'api_name') }),
    },
    {
      spec: 'refuses id when the resource does not match by id',
      entry: { api_name: 'id', index: 1 },
      expected: error('INVALID_FIELD', 'invalid mapping. id is a read-only system field (map id only when find_by is id).', { api_name: 'id', json_path: at(1, 'api_name') }),
    },
    {
      spec: 'refuses a negative index',
      entry: { api_name: 'Email', index: -1 },
      expected: error('COLUMN_INDEX_NOT_FOUND', 'column index -1 of field Email is negative', { api_name: 'index', json_path: at(1, 'index') }),
    },
    {
      spec: 'refuses an index past the last column, naming the column range',
      entry: { api_name: 'Email', index: 5 },
      expected: error('COLUMN_INDEX_NOT_FOUND', 'column index 5 of field Email does not exist: contacts.csv has 5 columns (0 to 4)', { api_name: 'index', json_path: at(1, 'index') }),
    },
    {
      spec: 'refuses a fractional index',
      entry: { api_name: 'Email', index: 1.5 },
      expected: error('INVALID_DATA', 'index of field Email must be a whole number', { api_name: 'index', json_path: at(1, 'index') }),
    },
    {
      spec: 'refuses an index in words',
      entry: { api_name: 'Email', index: 'one' },
      expected: error('INVALID_DATA', 'index of field Email must be a whole number', { api_name: 'index', json_path: at(1, 'index') }),
    },
    {
      spec: 'refuses a mapping with neither index nor default_value (the SDK message)',
      entry: { api_name: 'Email' },
      expected: error('MANDATORY_NOT_FOUND', 'required key index for field Email is not found in request body.', { api_name: 'index', json_path: at(1, 'index') }),
    },
    {
      spec: 'refuses a field mapped twice, even in another case',
      entry: { api_name: 'last_name', index: 1 },
      expected: error('DUPLICATE_DATA', 'field Last_Name is mapped more than once (entries 0 and 1)', { api_name: 'Last_Name', json_path: at(1, 'api_name') }),
    },
    {
      spec: 'refuses a date format without a day',
      entry: { api_name: 'Date_of_Birth', index: 4, format: 'yyyy-MM' },
      expected: error('INVALID_FORMAT', 'invalid date format "yyyy-MM" for field Date_of_Birth', { api_name: 'format', json_path: at(1, 'format') }),
    },
    {
      spec: 'refuses a time-only format for a date',
      entry: { api_name: 'Date_of_Birth', index: 4, format: 'HH:mm' },
      expected: error('INVALID_FORMAT', 'invalid date format "HH:mm" for field Date_of_Birth', { api_name: 'format', json_path: at(1, 'format') }),
    },
    {
      spec: 'refuses a date-only format for a date-time',
      entry: { api_name: 'Last_Contacted', index: 4, format: 'yyyy/MM/dd' },
      expected: error('INVALID_FORMAT', 'invalid datetime format "yyyy/MM/dd" for field Last_Contacted', { api_name: 'format', json_path: at(1, 'format') }),
    },
    {
      spec: 'refuses a format with unknown letters',
      entry: { api_name: 'Date_of_Birth', index: 4, format: 'qq/MM/yyyy' },
      expected: error('INVALID_FORMAT', 'invalid date format "qq/MM/yyyy" for field Date_of_Birth', { api_name: 'format', json_path: at(1, 'format') }),
    },
    {
      spec: 'refuses a format on a text field',
      entry: { api_name: 'First_Name', index: 1, format: 'yyyy/MM/dd' },
      expected: error('INVALID_FORMAT', 'format applies only to date and date-time fields; First_Name is not one', { api_name: 'format', json_path: at(1, 'format') }),
    },
    {
      spec: 'refuses a lookup without find_by',
      entry: { api_name: 'Account_Name', index: 2 },
      expected: error('MANDATORY_NOT_FOUND', 'required key find_by for lookup field Account_Name is not found in request body.', { api_name: 'find_by', json_path: at(1, 'find_by') }),
    },
    {
      spec: 'refuses a lookup found by a field that is neither unique nor the name',
      entry: { api_name: 'Account_Name', index: 2, find_by: 'Phone' },
      expected: error('INVALID_DATA', 'find_by Phone of lookup field Account_Name must be id, a unique field or the name field of Accounts', {
        api_name: 'find_by',
        json_path: at(1, 'find_by'),
      }),
    },
    {
      spec: 'refuses a lookup found by a field its module does not have',
      entry: { api_name: 'Account_Name', index: 2, find_by: 'Email' },
      expected: error('INVALID_DATA', 'find_by Email of lookup field Account_Name must be id, a unique field or the name field of Accounts', {
        api_name: 'find_by',
        json_path: at(1, 'find_by'),
      }),
    },
    {
      spec: 'refuses a lookup into a module the org does not have',
      entry: { api_name: 'Vendor_Name', index: 2, find_by: 'id' },
      expected: error('MODULE_NOT_AVAILABLE', "Requested module 'Vendors' is not available.", { api_name: 'Vendor_Name', json_path: at(1, 'find_by') }),
    },
    {
      spec: 'refuses a lookup module other than the one it looks up',
      entry: { api_name: 'Account_Name', index: 2, find_by: 'id', module: 'Leads' },
      expected: error('INVALID_DATA', 'module of field Account_Name must name the module it looks up (Accounts)', { api_name: 'module', json_path: at(1, 'module') }),
    },
    {
      spec: 'refuses a module on a field that is not a lookup',
      entry: { api_name: 'Email', index: 1, module: 'Accounts' },
      expected: error('INVALID_DATA', 'module of field Email must name the module it looks up', { api_name: 'module', json_path: at(1, 'module') }),
    },
    {
      spec: 'refuses Owner found by name',
      entry: { api_name: 'Owner', index: 3, find_by: 'name' },
      expected: error('INVALID_DATA', 'find_by of user field Owner must be id or email', { api_name: 'find_by', json_path: at(1, 'find_by') }),
    },
    {
      spec: 'refuses find_by on a plain field',
      entry: { api_name: 'Email', index: 1, find_by: 'id' },
      expected: error('INVALID_DATA', 'find_by applies only to lookup and user fields; Email is not one', { api_name: 'find_by', json_path: at(1, 'find_by') }),
    },
    {
      spec: 'refuses a default_value that is not an object',
      entry: { api_name: 'Email', default_value: 'unknown@zylker.com' },
      expected: error('INVALID_DATA', 'default_value of field Email must be an object like {"value": "..."}', { api_name: 'default_value', json_path: at(1, 'default_value') }),
    },
    {
      spec: 'refuses a default_value object without value',
      entry: { api_name: 'Email', default_value: { text: 'unknown@zylker.com' } },
      expected: error('INVALID_DATA', 'default_value of field Email must be an object like {"value": "..."}', { api_name: 'default_value', json_path: at(1, 'default_value') }),
    },
    {
      spec: 'refuses a default_value whose value is an object',
      entry: { api_name: 'Email', default_value: { value: { email: 'unknown@zylker.com' } } },
      expected: error('INVALID_DATA', 'default_value of field Email must be an object like {"value": "..."}', { api_name: 'default_value', json_path: at(1, 'default_value') }),
    },
    {
      spec: 'refuses a default_value that fails the field type',
      entry: { api_name: 'Email', default_value: { value: 'nobody' } },
      expected: error('INVALID_DATA', 'default_value of field Email is not a valid email address', { api_name: 'default_value', json_path: at(1, 'default_value') }),
    },
    {
      spec: 'refuses a date default_value that does not match the mapping format',
      entry: { api_name: 'Date_of_Birth', index: 4, format: 'dd/MM/yyyy', default_value: { value: '1990-12-31' } },
      expected: error('INVALID_DATA', 'default_value of field Date_of_Birth is not a date in the format dd/MM/yyyy', {
        api_name: 'default_value',
        json_path: at(1, 'default_value'),
      }),
    },
  ], ({ entry, expected }) => {
    expect(thrownBy(() => resolveMappings(contactsWith(entry), context(CONTACTS, CONTACTS_HEADER)))).toEqual(expected);
  });

  it('names a one-column file in the singular', () => {
    expect(thrownBy(() => resolveMappings(resource([{ api_name: 'Last_Name', index: 1 }]), context(CONTACTS, ['Last_Name'])))).toEqual(
      error('COLUMN_INDEX_NOT_FOUND', 'column index 1 of field Last_Name does not exist: contacts.csv has 1 column (0 to 0)', {
        api_name: 'index',
        json_path: at(0, 'index'),
      }),
    );
  });

  it('refuses a default_value that is not a whole number for an integer field', () => {
    const req = resource([{ api_name: 'Last_Name', index: 0 }, { api_name: 'Company', index: 1 }, { api_name: 'No_of_Employees', default_value: { value: 'many' } }]);
    expect(thrownBy(() => resolveMappings(req, context(LEADS, ['Last_Name', 'Company'])))).toEqual(
      error('INVALID_DATA', 'default_value of field No_of_Employees is not a whole number', { api_name: 'default_value', json_path: at(2, 'default_value') }),
    );
  });

  it('refuses more mappings than the limit allows', () => {
    const req = resource([{ api_name: 'Last_Name', index: 0 }, { api_name: 'Email', index: 1 }, { api_name: 'Owner', index: 3 }]);
    expect(thrownBy(() => resolveMappings(req, context(CONTACTS, CONTACTS_HEADER, { limits: { ...PROFILES.zoho, maxFieldMappings: 2 } })))).toEqual(
      error('HEADER_LIMIT_EXCEEDED', '3 fields are mapped; at most 2 are allowed', { api_name: 'field_mappings', json_path: '$.resource[0].field_mappings' }),
    );
  });

  it('names a non-string format on a date field as an invalid date format', () => {
    const entry = { api_name: 'Date_of_Birth', index: 4, format: 19901231 };
    expect(thrownBy(() => resolveMappings(contactsWith(entry), context(CONTACTS, CONTACTS_HEADER)))).toEqual(
      error('INVALID_FORMAT', 'invalid date format 19901231 for field Date_of_Birth', { api_name: 'format', json_path: at(1, 'format') }),
    );
  });

  it('does not call a lookup field a non-lookup when its find_by is not a string', () => {
    const entry = { api_name: 'Account_Name', index: 2, find_by: 1 };
    expect(thrownBy(() => resolveMappings(contactsWith(entry), context(CONTACTS, CONTACTS_HEADER))).message).not.toContain('Account_Name is not one');
  });
});

describe('resolveMappings with a resource find_by', () => {
  const upsert = (operation: Operation = 'upsert'): Partial<MappingContext> => ({ operation });

  eachCase([
    { spec: 'matches on a unique field', findBy: 'Email', expected: 'Email' },
    { spec: 'spells a unique field given in another case canonically', findBy: 'email', expected: 'Email' },
  ], ({ findBy, expected }) => {
    const req = resource([{ api_name: 'Last_Name', index: 0 }, { api_name: 'Email', index: 1 }], findBy);
    expect(resolveMappings(req, context(CONTACTS, CONTACTS_HEADER, upsert())).findBy).toBe(expected);
  });

  it('matches on id, with id mapped to a column', () => {
    const req = resource([{ api_name: 'id', index: 0 }, { api_name: 'Email', index: 1 }], 'id');
    expect(resolveMappings(req, context(CONTACTS, ['Record Id', 'Email'], upsert('update')))).toEqual({
      findBy: 'id',
      mappings: [mapping('id', 0), mapping('Email', 1)],
    });
  });

  eachCase<{ spec: string; findBy: string; mappings: unknown[]; expected: ErrorShape }>([
    {
      spec: 'refuses a find_by the module does not have',
      findBy: 'Nope',
      mappings: [{ api_name: 'Last_Name', index: 0 }],
      expected: error('INVALID_FIELD', 'invalid find_by. invalid api_name Nope.', { api_name: 'Nope', json_path: '$.resource[0].find_by' }),
    },
    {
      spec: 'refuses a find_by that is not unique, naming the choices',
      findBy: 'Last_Name',
      mappings: [{ api_name: 'Last_Name', index: 0 }],
      expected: error('INVALID_DATA', 'find_by Last_Name is not a unique field of Contacts; use id or Email', { api_name: 'Last_Name', json_path: '$.resource[0].find_by' }),
    },
    {
      spec: 'refuses a find_by field that is not mapped',
      findBy: 'Email',
      mappings: [{ api_name: 'Last_Name', index: 0 }],
      expected: error('MANDATORY_NOT_FOUND', 'the find_by field Email is not mapped to a column of contacts.csv', {
        api_name: 'Email',
        json_path: '$.resource[0].field_mappings',
      }),
    },
    {
      spec: 'refuses a find_by field set only by a default_value',
      findBy: 'Email',
      mappings: [{ api_name: 'Last_Name', index: 0 }, { api_name: 'Email', default_value: { value: 'a@zylker.com' } }],
      expected: error('MANDATORY_NOT_FOUND', 'the find_by field Email is not mapped to a column of contacts.csv', {
        api_name: 'Email',
        json_path: '$.resource[0].field_mappings',
      }),
    },
    {
      spec: 'refuses a find_by of id without an id mapping',
      findBy: 'id',
      mappings: [{ api_name: 'Last_Name', index: 0 }],
      expected: error('MANDATORY_NOT_FOUND', 'the find_by field id is not mapped to a column of contacts.csv', { api_name: 'id', json_path: '$.resource[0].field_mappings' }),
    },
  ], ({ findBy, mappings, expected }) => {
    expect(thrownBy(() => resolveMappings(resource(mappings, findBy), context(CONTACTS, CONTACTS_HEADER, upsert())))).toEqual(expected);
  });
});

describe('resolveMappings of mandatory fields', () => {
  const leadsHeader = ['Last_Name', 'Company', 'Email'];
  const onlyEmail = [{ api_name: 'Email', index: 2 }];

  eachCase<{ operation: Operation; findBy: string | null }>([
    { operation: 'insert', findBy: null },
    { operation: 'upsert', findBy: 'Email' },
  ], (r) => `refuses an ${r.operation} that leaves mandatory fields unmapped, naming them in module order`, ({ operation, findBy }) => {
    expect(thrownBy(() => resolveMappings(resource(onlyEmail, findBy), context(LEADS, leadsHeader, { operation })))).toEqual(
      error('MANDATORY_FIELDS_NOT_MAPPED', 'All mandatory fields are not mapped for the layout: Last_Name, Company', {
        api_name: 'Last_Name',
        json_path: '$.resource[0].field_mappings',
      }),
    );
  });

  it('names the one mandatory field missing', () => {
    const req = resource([{ api_name: 'Company', index: 1 }]);
    expect(thrownBy(() => resolveMappings(req, context(LEADS, leadsHeader)))).toEqual(
      error('MANDATORY_FIELDS_NOT_MAPPED', 'All mandatory fields are not mapped for the layout: Last_Name', {
        api_name: 'Last_Name',
        json_path: '$.resource[0].field_mappings',
      }),
    );
  });

  it('lets an update leave mandatory fields unmapped', () => {
    expect(resolveMappings(resource(onlyEmail, 'Email'), context(LEADS, leadsHeader, { operation: 'update' }))).toEqual({
      findBy: 'Email',
      mappings: [mapping('Email', 2)],
    });
  });

  it('counts a mandatory field set by a default_value as mapped', () => {
    const req = resource([{ api_name: 'Last_Name', index: 0 }, { api_name: 'Company', default_value: { value: 'Zylker' } }]);
    expect(resolveMappings(req, context(LEADS, leadsHeader)).mappings).toEqual([
      mapping('Last_Name', 0),
      mapping('Company', null, { defaultValue: { value: 'Zylker' } }),
    ]);
  });
});

describe('resolveMappings from the CSV header (no field_mappings)', () => {
  it('maps each column to the field it names, a lookup by the name field of its module', () => {
    expect(resolveMappings(resource(null), context(CONTACTS, ['Last_Name', 'Email', 'Account_Name', 'Owner']))).toEqual({
      findBy: null,
      mappings: [mapping('Last_Name', 0), mapping('Email', 1), mapping('Account_Name', 2, { findBy: 'Account_Name' }), mapping('Owner', 3)],
    });
  });

  eachCase([
    { spec: 'reads Account_Name.id as a lookup by id', column: 'Account_Name.id', expected: mapping('Account_Name', 1, { findBy: 'id' }) },
    { spec: 'reads Account_Name.Account_Name as a lookup by name', column: 'Account_Name.Account_Name', expected: mapping('Account_Name', 1, { findBy: 'Account_Name' }) },
    { spec: 'reads Account_Name.Account_Number as a lookup by a unique field', column: 'Account_Name.Account_Number', expected: mapping('Account_Name', 1, { findBy: 'Account_Number' }) },
    { spec: 'reads the parts of a lookup header in any case', column: 'account_name.account_number', expected: mapping('Account_Name', 1, { findBy: 'Account_Number' }) },
    { spec: 'reads Owner.email as an owner by email', column: 'Owner.email', expected: mapping('Owner', 1, { findBy: 'email' }) },
    { spec: 'reads Owner.id as an owner by id', column: 'Owner.id', expected: mapping('Owner', 1, { findBy: 'id' }) },
    { spec: 'trims the spaces around a header', column: '  Email ', expected: mapping('Email', 1) },
    { spec: 'spells a header in another case canonically', column: 'EMAIL', expected: mapping('Email', 1) },
  ], ({ column, expected }) => {
    expect(resolveMappings(resource(null), context(CONTACTS, ['Last_Name', column])).mappings[1]).toEqual(expected);
  });

  it('maps an id column when the resource matches by id', () => {
    expect(resolveMappings(resource(null, 'id'), context(CONTACTS, ['id', 'Email'], { operation: 'update' }))).toEqual({
      findBy: 'id',
      mappings: [mapping('id', 0), mapping('Email', 1)],
    });
  });

  const fieldMappings = '$.resource[0].field_mappings';
  eachCase<{ spec: string; header: string[]; findBy?: string; expected: ErrorShape }>([
    {
      spec: 'refuses a column naming no field, with its index',
      header: ['Last_Name', 'Nickname'],
      expected: error('INVALID_FIELD', 'invalid mapping. invalid api_name Nickname.', { api_name: 'Nickname', column_index: 1, json_path: fieldMappings }),
    },
    {
      spec: 'refuses a read-only field column',
      header: ['Last_Name', 'Created_Time'],
      expected: error('INVALID_FIELD', 'invalid mapping. invalid api_name Created_Time.', { api_name: 'Created_Time', column_index: 1, json_path: fieldMappings }),
    },
    {
      spec: 'refuses an id column when the resource does not match by id',
      header: ['id', 'Last_Name'],
      expected: error('INVALID_FIELD', 'invalid mapping. invalid api_name id.', { api_name: 'id', column_index: 0, json_path: fieldMappings }),
    },
    {
      spec: 'refuses a dotted id column',
      header: ['id.Email', 'Last_Name'],
      findBy: 'id',
      expected: error('INVALID_FIELD', 'invalid mapping. invalid api_name id.Email.', { api_name: 'id.Email', json_path: fieldMappings }),
    },
    {
      spec: 'refuses a lookup header by a field that is neither unique nor the name',
      header: ['Last_Name', 'Account_Name.Phone'],
      expected: error('INVALID_DATA', 'find_by Phone of lookup field Account_Name must be id, a unique field or the name field of Accounts', {
        api_name: 'find_by',
        json_path: fieldMappings,
      }),
    },
    {
      spec: 'refuses a dotted header on a field that is not a lookup',
      header: ['Last_Name', 'Email.id'],
      expected: error('INVALID_DATA', 'Email.id is not a lookup field', { api_name: 'Email', json_path: fieldMappings }),
    },
    {
      spec: 'refuses an owner header by name',
      header: ['Last_Name', 'Owner.name'],
      expected: error('INVALID_DATA', 'find_by of user field Owner.name must be id or email', { api_name: 'find_by', json_path: fieldMappings }),
    },
    {
      spec: 'refuses a lookup column into a module the org does not have',
      header: ['Last_Name', 'Vendor_Name'],
      expected: error('MODULE_NOT_AVAILABLE', "Requested module 'Vendors' is not available.", { api_name: 'Vendor_Name', json_path: fieldMappings }),
    },
    {
      spec: 'refuses two columns naming the same field',
      header: ['Last_Name', 'Email', 'email'],
      expected: error('DUPLICATE_DATA', 'field Email is mapped more than once (entries 1 and 2)', { api_name: 'Email', json_path: fieldMappings }),
    },
    {
      spec: 'refuses a header without a mandatory field',
      header: ['Email'],
      expected: error('MANDATORY_FIELDS_NOT_MAPPED', 'All mandatory fields are not mapped for the layout: Last_Name', { api_name: 'Last_Name', json_path: fieldMappings }),
    },
  ], ({ header, findBy, expected }) => {
    const operation: Operation = findBy ? 'update' : 'insert';
    expect(thrownBy(() => resolveMappings(resource(null, findBy ?? null), context(CONTACTS, header, { operation })))).toEqual(expected);
  });

  it('refuses more columns than the mapping limit', () => {
    const ctx = context(CONTACTS, ['Last_Name', 'Email', 'Owner'], { limits: { ...PROFILES.zoho, maxFieldMappings: 2 } });
    expect(thrownBy(() => resolveMappings(resource(null), ctx))).toEqual(
      error('HEADER_LIMIT_EXCEEDED', '3 fields are mapped; at most 2 are allowed', { api_name: 'field_mappings', json_path: fieldMappings }),
    );
  });
});
