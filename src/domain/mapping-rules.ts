import { coerceValue, isUsableFormat } from './coercion.js';
import { Errors, keyDetails } from './errors.js';
import type { FieldMapping, Operation } from './job.js';
import type { ResourceRequest } from './job-request.js';
import type { Limits } from './limits.js';
import { canMatchOn, findField, isUserField, nameField, SYSTEM_FIELD_NAMES, type FieldDef, type ModuleDef } from './metadata.js';

export interface MappingContext {
  readonly operation: Operation;
  readonly module: ModuleDef;
  /** Header row of the uploaded CSV. */
  readonly header: readonly string[];
  readonly fileName: string;
  readonly limits: Limits;
  readonly timeZone: string;
  /** Finds another module of the org, for lookup `find_by` checks. */
  readonly moduleByName: (apiName: string) => ModuleDef | undefined;
}

export interface ResolvedResource {
  readonly findBy: string | null;
  readonly mappings: readonly FieldMapping[];
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Validates a resource's mappings against its module and the file's header (reference §5.7 step 6). */
export function resolveMappings(req: ResourceRequest, ctx: MappingContext): ResolvedResource {
  const findBy = req.findBy === null ? null : resolveFindBy(req, ctx);
  const mappings =
    req.fieldMappings === null ? mappingsFromHeader(req, ctx, findBy) : explicitMappings(req, req.fieldMappings, ctx, findBy);

  if (findBy !== null && !mappings.some((m) => m.apiName === findBy && m.index !== null)) {
    throw Errors.mandatoryNotFound(
      `the find_by field ${findBy} is not mapped to a column of ${ctx.fileName}`,
      keyDetails(findBy, `${req.path}.field_mappings`),
    );
  }
  if (ctx.operation !== 'update') {
    const mapped = new Set(mappings.map((m) => m.apiName));
    const missing = ctx.module.fields.filter((f) => f.mandatory && !mapped.has(f.apiName)).map((f) => f.apiName);
    if (missing.length > 0) {
      throw Errors.mandatoryFieldsNotMapped(missing, { api_name: missing[0], json_path: `${req.path}.field_mappings` });
    }
  }
  return { findBy, mappings };
}

function resolveFindBy(req: ResourceRequest, ctx: MappingContext): string {
  const findBy = req.findBy as string;
  const path = `${req.path}.find_by`;
  if (findBy === 'id') return 'id';
  const field = findField(ctx.module, findBy);
  if (!field) throw Errors.invalidField(`invalid find_by. invalid api_name ${findBy}.`, keyDetails(findBy, path));
  if (!canMatchOn(ctx.module, field.apiName)) {
    const unique = ctx.module.fields.filter((f) => f.unique).map((f) => f.apiName);
    throw Errors.invalidData(
      `find_by ${field.apiName} is not a unique field of ${ctx.module.apiName}; use id${unique.length ? ` or ${unique.join(', ')}` : ''}`,
      keyDetails(field.apiName, path),
    );
  }
  return field.apiName;
}

function mappingsFromHeader(req: ResourceRequest, ctx: MappingContext, findBy: string | null): FieldMapping[] {
  checkCount(ctx.header.length, req, ctx);
  const seen = new Map<string, number>();
  const mappings: FieldMapping[] = [];
  ctx.header.forEach((column, index) => {
    // A trailing delimiter (as Excel writes) leaves a column without a name: nothing to map.
    if (column.trim() === '') return;
    const path = `${req.path}.field_mappings`;
    // `Lookup.field` headers name a lookup and the field it is found by (reference §9.2).
    const [base, via] = splitLookupHeader(column);
    const field = resolveFieldName(base, findBy, ctx.module);
    if (!field) {
      throw Errors.invalidField(`invalid mapping. invalid api_name ${column}.`, { api_name: column, column_index: index, json_path: path });
    }
    rejectDuplicate(seen, field, index, path);
    let mappingFindBy: string | null = null;
    if (field !== 'id') {
      const def = findField(ctx.module, field) as FieldDef;
      if (via !== null) mappingFindBy = checkReferenceFindBy(def, via, ctx, path, column);
      else if (def.dataType === 'lookup') mappingFindBy = nameField(lookupTarget(def, ctx, path))?.apiName ?? 'id';
    } else if (via !== null) {
      throw Errors.invalidField(`invalid mapping. invalid api_name ${column}.`, { api_name: column, json_path: path });
    }
    mappings.push({ apiName: field, index, format: null, findBy: mappingFindBy, module: null, defaultValue: null });
  });
  return mappings;
}

function splitLookupHeader(column: string): [string, string | null] {
  const dot = column.indexOf('.');
  return dot < 0 ? [column.trim(), null] : [column.slice(0, dot).trim(), column.slice(dot + 1).trim()];
}

function explicitMappings(req: ResourceRequest, raw: readonly unknown[], ctx: MappingContext, findBy: string | null): FieldMapping[] {
  checkCount(raw.length, req, ctx);
  const seen = new Map<string, number>();
  return raw.map((entry, j) => {
    const path = `${req.path}.field_mappings[${j}]`;
    if (!isObject(entry)) throw Errors.invalidData(`${path.slice(2)} must be an object`, { json_path: path });
    if (entry.api_name === undefined || entry.api_name === null || entry.api_name === '') {
      throw Errors.requiredKey('api_name', `${path}.api_name`);
    }
    if (typeof entry.api_name !== 'string') throw Errors.invalidData('api_name must be a string', keyDetails('api_name', `${path}.api_name`));
    const apiName = resolveFieldName(entry.api_name, findBy, ctx.module);
    if (!apiName) {
      const readOnly = (SYSTEM_FIELD_NAMES as readonly string[]).includes(entry.api_name);
      throw Errors.invalidField(
        readOnly
          ? `invalid mapping. ${entry.api_name} is a read-only system field${entry.api_name === 'id' ? ' (map id only when find_by is id)' : ''}.`
          : `invalid mapping. invalid api_name ${entry.api_name}.`,
        keyDetails(entry.api_name, `${path}.api_name`),
      );
    }
    const def = apiName === 'id' ? null : (findField(ctx.module, apiName) as FieldDef);
    const index = mappingIndex(entry, apiName, path, ctx);
    rejectDuplicate(seen, apiName, j, `${path}.api_name`);
    const format = mappingFormat(entry, def, apiName, path);
    const mappingFindBy = mappingFindByOf(entry, def, apiName, path, ctx);
    const module = mappingModule(entry, def, apiName, path);
    const defaultValue = mappingDefault(entry, def, apiName, path, ctx, format);
    if (index === null && defaultValue === null) {
      throw Errors.mandatoryNotFound(`required key index for field ${apiName} is not found in request body.`, keyDetails('index', `${path}.index`));
    }
    return { apiName, index, format, findBy: mappingFindBy, module, defaultValue };
  });
}

function checkCount(count: number, req: ResourceRequest, ctx: MappingContext): void {
  if (count > ctx.limits.maxFieldMappings) {
    throw Errors.headerLimitExceeded(
      `${count} fields are mapped; at most ${ctx.limits.maxFieldMappings} are allowed`,
      keyDetails('field_mappings', `${req.path}.field_mappings`),
    );
  }
}

/** The field's canonical api_name; `id` only where the resource matches by id. */
function resolveFieldName(name: string, findBy: string | null, module: ModuleDef): string | null {
  if (name === 'id') return findBy === 'id' ? 'id' : null;
  const f = findField(module, name);
  return f && !f.readOnly ? f.apiName : null;
}

function rejectDuplicate(seen: Map<string, number>, apiName: string, at: number, path: string): void {
  const first = seen.get(apiName);
  if (first !== undefined) {
    throw Errors.duplicateData(`field ${apiName} is mapped more than once (entries ${first} and ${at})`, keyDetails(apiName, path));
  }
  seen.set(apiName, at);
}

function mappingIndex(entry: Json, apiName: string, path: string, ctx: MappingContext): number | null {
  const raw = entry.index;
  if (raw === undefined || raw === null) return null;
  const index = typeof raw === 'string' && /^-?\d+$/.test(raw) ? Number(raw) : raw;
  if (typeof index !== 'number' || !Number.isInteger(index)) {
    throw Errors.invalidData(`index of field ${apiName} must be a whole number`, keyDetails('index', `${path}.index`));
  }
  if (index < 0) {
    throw Errors.columnIndexNotFound(`column index ${index} of field ${apiName} is negative`, keyDetails('index', `${path}.index`));
  }
  if (index >= ctx.header.length) {
    throw Errors.columnIndexNotFound(
      `column index ${index} of field ${apiName} does not exist: ${ctx.fileName} has ${ctx.header.length} column${ctx.header.length === 1 ? '' : 's'} (0 to ${ctx.header.length - 1})`,
      keyDetails('index', `${path}.index`),
    );
  }
  return index;
}

function mappingFormat(entry: Json, def: FieldDef | null, apiName: string, path: string): string | null {
  const raw = entry.format;
  if (raw === undefined || raw === null) return null;
  if (def === null || (def.dataType !== 'date' && def.dataType !== 'datetime')) {
    throw Errors.invalidFormat(`format applies only to date and date-time fields; ${apiName} is not one`, keyDetails('format', `${path}.format`));
  }
  if (typeof raw !== 'string' || !isUsableFormat(def, raw)) {
    throw Errors.invalidFormat(`invalid ${def.dataType} format ${JSON.stringify(raw)} for field ${apiName}`, keyDetails('format', `${path}.format`));
  }
  return raw;
}

function mappingFindByOf(entry: Json, def: FieldDef | null, apiName: string, path: string, ctx: MappingContext): string | null {
  const raw = entry.find_by;
  if (raw === undefined || raw === null) {
    if (def?.dataType === 'lookup') {
      throw Errors.mandatoryNotFound(`required key find_by for lookup field ${apiName} is not found in request body.`, keyDetails('find_by', `${path}.find_by`));
    }
    return null;
  }
  if (def === null || !(def.dataType === 'lookup' || isUserField(def))) {
    throw Errors.invalidData(`find_by applies only to lookup and user fields; ${apiName} is not one`, keyDetails('find_by', `${path}.find_by`));
  }
  if (typeof raw !== 'string') {
    throw Errors.invalidData(`find_by of field ${apiName} must be the api_name of a field, as a string`, keyDetails('find_by', `${path}.find_by`));
  }
  return checkReferenceFindBy(def, raw, ctx, `${path}.find_by`, apiName);
}

/** find_by of a lookup: id, a unique field or the name field of the target; of a user field: id or email. */
function checkReferenceFindBy(def: FieldDef, findBy: string, ctx: MappingContext, path: string, label: string): string {
  if (isUserField(def)) {
    const v = findBy.toLowerCase();
    if (v === 'id' || v === 'email') return v;
    throw Errors.invalidData(`find_by of user field ${label} must be id or email`, keyDetails('find_by', path));
  }
  if (def.dataType !== 'lookup') throw Errors.invalidData(`${label} is not a lookup field`, keyDetails(def.apiName, path));
  const target = lookupTarget(def, ctx, path);
  if (findBy === 'id') return 'id';
  const f = findField(target, findBy);
  if (!f || !(f.unique || f.isNameField)) {
    throw Errors.invalidData(
      `find_by ${findBy} of lookup field ${def.apiName} must be id, a unique field or the name field of ${target.apiName}`,
      keyDetails('find_by', path),
    );
  }
  return f.apiName;
}

function lookupTarget(def: FieldDef, ctx: MappingContext, path: string): ModuleDef {
  const target = def.lookupModule ? ctx.moduleByName(def.lookupModule) : undefined;
  if (!target) throw Errors.moduleNotAvailable(def.lookupModule ?? '', keyDetails(def.apiName, path));
  return target;
}

function mappingModule(entry: Json, def: FieldDef | null, apiName: string, path: string): string | null {
  const raw = entry.module;
  if (raw === undefined || raw === null) return null;
  const name = typeof raw === 'string' ? raw : isObject(raw) && typeof raw.api_name === 'string' ? raw.api_name : null;
  if (name === null || def === null || def.dataType !== 'lookup' || name.toLowerCase() !== (def.lookupModule ?? '').toLowerCase()) {
    throw Errors.invalidData(
      `module of field ${apiName} must name the module it looks up${def?.lookupModule ? ` (${def.lookupModule})` : ''}`,
      keyDetails('module', `${path}.module`),
    );
  }
  return def.lookupModule;
}

function mappingDefault(entry: Json, def: FieldDef | null, apiName: string, path: string, ctx: MappingContext, format: string | null): Json | null {
  const raw = entry.default_value;
  if (raw === undefined || raw === null) return null;
  const value = isObject(raw) ? raw.value : undefined;
  if (value === undefined || value === null || typeof value === 'object') {
    throw Errors.invalidData(`default_value of field ${apiName} must be an object like {"value": "..."}`, keyDetails('default_value', `${path}.default_value`));
  }
  if (def !== null) {
    const coerced = coerceValue(def, String(value), { timeZone: ctx.timeZone, format });
    if (!coerced.ok) {
      throw Errors.invalidData(`default_value of field ${apiName} is ${coerced.reason}`, keyDetails('default_value', `${path}.default_value`));
    }
  }
  return { ...raw };
}
