import type { CellValue } from './coercion.js';
import type { FieldDef, ModuleDef } from './metadata.js';

export interface UserRefView {
  readonly id: string;
  readonly name: string;
  readonly email: string;
}

export interface RecordViewContext {
  readonly users: ReadonlyMap<string, UserRefView>;
  /** Display names of looked-up records, by record id. */
  readonly lookupNames: ReadonlyMap<string, string>;
  /** When set, only these fields (and id) are rendered (the `fields` parameter). */
  readonly only: ReadonlySet<string> | null;
}

const SYSTEM_USER_FIELDS = ['Created_By', 'Modified_By'] as const;
const SYSTEM_TIME_FIELDS = ['Created_Time', 'Modified_Time'] as const;

/**
 * A record as Zoho's v2.1 records API writes it: lookups as `{name, id}`, users as
 * `{name, id, email}`, multi-select values as arrays, dates `yyyy-MM-dd`, datetimes with offset.
 */
export function renderRecord(module: ModuleDef, id: string, values: Readonly<Record<string, CellValue>>, ctx: RecordViewContext): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const want = (name: string): boolean => ctx.only === null || ctx.only.has(name);
  for (const f of module.fields) {
    if (want(f.apiName)) out[f.apiName] = renderValue(f, values[f.apiName] ?? null, ctx);
  }
  for (const name of SYSTEM_USER_FIELDS) if (want(name)) out[name] = userRef(values[name] ?? null, ctx);
  for (const name of SYSTEM_TIME_FIELDS) if (want(name)) out[name] = values[name] ?? null;
  out.id = id;
  return out;
}

function renderValue(f: FieldDef, v: CellValue, ctx: RecordViewContext): unknown {
  if (v === null) return f.dataType === 'multiselectpicklist' ? [] : null;
  switch (f.dataType) {
    case 'ownerlookup':
    case 'userlookup':
      return userRef(v, ctx);
    case 'lookup':
      return { name: ctx.lookupNames.get(String(v)) ?? null, id: String(v) };
    case 'multiselectpicklist':
      return String(v).split(';');
    case 'boolean':
      return v === true || v === 1;
    default:
      return v;
  }
}

function userRef(v: CellValue, ctx: RecordViewContext): unknown {
  if (v === null) return null;
  const u = ctx.users.get(String(v));
  return u ? { name: u.name, id: u.id, email: u.email } : { name: null, id: String(v), email: null };
}

/** What a lookup to a record of this module shows as its name (Zoho: Full_Name for people). */
export function displayName(module: ModuleDef, values: Readonly<Record<string, CellValue>>): string {
  const has = (n: string) => module.fields.some((f) => f.apiName === n);
  if (has('First_Name') && has('Last_Name')) return [values.First_Name, values.Last_Name].filter((x) => x).join(' ');
  const name = module.fields.find((f) => f.isNameField);
  return name ? String(values[name.apiName] ?? '') : '';
}
