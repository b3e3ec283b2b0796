import type { DataType, ModuleDef } from './metadata.js';
import type { FieldSpec, ModuleSpec } from './standard-modules.js';

/** Changes a schema document asks for; applying them never drops or rewrites a record. */
export interface SchemaPlan {
  readonly newModules: readonly ModuleSpec[];
  readonly newFields: readonly { readonly moduleApiName: string; readonly field: FieldSpec }[];
}

export class SchemaError extends Error {}

const DATA_TYPES: readonly DataType[] = [
  'text', 'textarea', 'email', 'phone', 'website', 'integer', 'bigint', 'double', 'currency', 'percent', 'boolean', 'date',
  'datetime', 'picklist', 'multiselectpicklist', 'lookup', 'ownerlookup', 'userlookup',
];
const API_NAME = /^[A-Za-z][A-Za-z0-9_]{0,49}$/;
const RESERVED = new Set(['id', 'created_time', 'modified_time', 'created_by', 'modified_by']);

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads a schema document (already parsed from JSON or YAML):
 * `{ modules: [{ api_name, singular_label?, plural_label?, fields: [{ api_name, data_type, … }] }] }`.
 */
export function parseSchemaDocument(doc: unknown): ModuleSpec[] {
  if (!isObject(doc) || !Array.isArray(doc.modules)) throw new SchemaError('a schema needs a top-level "modules" list');
  return doc.modules.map((m, i) => {
    const where = `modules[${i}]`;
    if (!isObject(m) || typeof m.api_name !== 'string' || !API_NAME.test(m.api_name)) {
      throw new SchemaError(`${where}.api_name must be a name of letters, digits and _ starting with a letter`);
    }
    const fields = m.fields === undefined ? [] : m.fields;
    if (!Array.isArray(fields)) throw new SchemaError(`${where}.fields must be a list`);
    return {
      apiName: m.api_name,
      singularLabel: typeof m.singular_label === 'string' ? m.singular_label : m.api_name.replace(/_/g, ' '),
      pluralLabel: typeof m.plural_label === 'string' ? m.plural_label : m.api_name.replace(/_/g, ' '),
      fields: fields.map((f, j) => parseFieldSpec(f, `${where}.fields[${j}]`)),
    };
  });
}

export function parseFieldSpec(f: unknown, where: string): FieldSpec {
  if (!isObject(f) || typeof f.api_name !== 'string' || !API_NAME.test(f.api_name)) {
    throw new SchemaError(`${where}.api_name must be a name of letters, digits and _ starting with a letter`);
  }
  if (RESERVED.has(f.api_name.toLowerCase())) throw new SchemaError(`${where}.api_name ${f.api_name} is a system field`);
  if (typeof f.data_type !== 'string' || !DATA_TYPES.includes(f.data_type as DataType)) {
    throw new SchemaError(`${where}.data_type must be one of ${DATA_TYPES.join(', ')}`);
  }
  const dataType = f.data_type as DataType;
  if (f.length !== undefined && (typeof f.length !== 'number' || !Number.isInteger(f.length) || f.length < 1)) {
    throw new SchemaError(`${where}.length must be a whole number above 0`);
  }
  if (dataType === 'lookup' && typeof f.lookup_module !== 'string') throw new SchemaError(`${where} is a lookup and needs lookup_module`);
  const picklist = f.picklist_values ?? f.pick_list_values;
  if (picklist !== undefined && (!Array.isArray(picklist) || picklist.some((v) => typeof v !== 'string'))) {
    throw new SchemaError(`${where}.picklist_values must be a list of strings`);
  }
  return {
    apiName: f.api_name,
    label: typeof f.label === 'string' ? f.label : f.api_name.replace(/_/g, ' '),
    dataType,
    length: typeof f.length === 'number' ? f.length : defaultLength(dataType),
    mandatory: f.mandatory === true,
    unique: f.unique === true,
    lookupModule: typeof f.lookup_module === 'string' ? f.lookup_module : undefined,
    picklistValues: (picklist as string[] | undefined) ?? [],
    isNameField: f.name_field === true,
  };
}

function defaultLength(t: DataType): number | undefined {
  if (t === 'text' || t === 'website') return 255;
  if (t === 'textarea') return 32000;
  if (t === 'email') return 100;
  if (t === 'phone') return 30;
  if (t === 'integer') return 9;
  if (t === 'currency') return 16;
  return undefined;
}

/** What must be added so the org has every module and field the document declares. */
export function planSchema(existing: readonly ModuleDef[], desired: readonly ModuleSpec[]): SchemaPlan {
  const newModules: ModuleSpec[] = [];
  const newFields: { moduleApiName: string; field: FieldSpec }[] = [];
  const known = (name: string) =>
    existing.some((m) => m.apiName.toLowerCase() === name.toLowerCase()) || desired.some((m) => m.apiName.toLowerCase() === name.toLowerCase());
  for (const spec of desired) {
    for (const f of spec.fields) {
      if (f.lookupModule && !known(f.lookupModule)) throw new SchemaError(`${spec.apiName}.${f.apiName} looks up unknown module ${f.lookupModule}`);
    }
    const names = new Set<string>();
    for (const f of spec.fields) {
      if (names.has(f.apiName.toLowerCase())) throw new SchemaError(`${spec.apiName}.${f.apiName} is declared twice`);
      names.add(f.apiName.toLowerCase());
    }
    const current = existing.find((m) => m.apiName.toLowerCase() === spec.apiName.toLowerCase());
    if (!current) {
      const hasName = spec.fields.some((f) => f.isNameField);
      const firstText = spec.fields.find((f) => f.dataType === 'text');
      // Every module needs a name for lookups to show: the first text field unless one is named.
      const fields = hasName || !firstText ? spec.fields : spec.fields.map((f) => (f === firstText ? { ...f, isNameField: true } : f));
      const owner = fields.some((f) => f.apiName === 'Owner') ? [] : [{ apiName: 'Owner', label: 'Owner', dataType: 'ownerlookup' as const }];
      newModules.push({ ...spec, fields: [...owner, ...fields] });
      continue;
    }
    for (const f of spec.fields) {
      const have = current.fields.find((x) => x.apiName.toLowerCase() === f.apiName.toLowerCase());
      if (!have) {
        if (f.mandatory) throw new SchemaError(`${spec.apiName}.${f.apiName} cannot be added as mandatory: existing records have no value`);
        newFields.push({ moduleApiName: current.apiName, field: f });
      } else if (have.dataType !== f.dataType) {
        throw new SchemaError(`${spec.apiName}.${f.apiName} is ${have.dataType}; changing its type to ${f.dataType} would rewrite records`);
      }
    }
  }
  return { newModules, newFields };
}
