import { CriteriaSyntaxError, parseCriteria, type Criteria } from '../domain/criteria.js';
import { Errors } from '../domain/errors.js';
import { findField, type ModuleDef } from '../domain/metadata.js';
import { displayName, renderRecord, type UserRefView } from '../domain/record-view.js';
import type { Store, StoredRecord } from '../ports/store.js';
import { invalidModule } from './metadata-service.js';
import type { Principal } from './principal.js';

export interface RecordListParams {
  readonly fields?: string;
  readonly page?: string;
  readonly per_page?: string;
  readonly sort_by?: string;
  readonly sort_order?: string;
}

export interface SearchParams extends RecordListParams {
  readonly criteria?: string;
  readonly email?: string;
  readonly phone?: string;
  readonly word?: string;
}

/** A page of records, or null when there are none (Zoho answers 204 No Content then). */
export type RecordPage = { data: Record<string, unknown>[]; info: { per_page: number; count: number; page: number; more_records: boolean } } | null;

const SORTABLE_SYSTEM = ['id', 'Created_Time', 'Modified_Time'];

/** Zoho's v2.1 records API, read side: list, get one, search. */
export class RecordService {
  constructor(private readonly store: Store) {}

  async list(principal: Principal, moduleName: string, params: RecordListParams): Promise<RecordPage> {
    const module = await this.module(principal, moduleName);
    return this.page(principal, module, params, null);
  }

  async get(principal: Principal, moduleName: string, id: string): Promise<Record<string, unknown>> {
    const module = await this.module(principal, moduleName);
    const record = await this.store.getRecord(module.id, id);
    if (!record) throw Errors.invalidData('the related id given seems to be invalid', { api_name: 'id' });
    return { data: await this.render(principal, module, [record], null) };
  }

  async search(principal: Principal, moduleName: string, params: SearchParams): Promise<RecordPage> {
    const module = await this.module(principal, moduleName);
    return this.page(principal, module, params, this.filterOf(module, params));
  }

  private async module(principal: Principal, name: string): Promise<ModuleDef> {
    const m = (await this.store.listModules(principal.orgId)).find((x) => x.apiName.toLowerCase() === name.toLowerCase());
    if (!m) throw invalidModule();
    return m;
  }

  private filterOf(module: ModuleDef, p: SearchParams): Criteria {
    const given = [p.criteria, p.email, p.phone, p.word].filter((v) => v !== undefined && v !== '');
    if (given.length === 0) throw Errors.requiredParamMissing('criteria');
    if (given.length > 1) throw Errors.invalidData('give only one of the parameters criteria, email, phone or word', { api_name: 'criteria' });
    const anyOf = (types: readonly string[], operator: 'equals' | 'contains', value: string): Criteria => {
      const fields = module.fields.filter((f) => types.includes(f.dataType));
      return { kind: 'group', operator: 'or', children: fields.map((f) => ({ kind: 'condition', field: f.apiName, operator, values: [value] })) };
    };
    if (p.email) return anyOf(['email'], 'equals', p.email);
    if (p.phone) return anyOf(['phone'], 'equals', p.phone);
    if (p.word) return anyOf(['text', 'textarea', 'email', 'phone', 'website', 'picklist'], 'contains', p.word);
    let criteria: Criteria;
    try {
      criteria = parseCriteria(p.criteria as string);
    } catch (e) {
      if (e instanceof CriteriaSyntaxError) throw Errors.invalidQuery(e.message);
      throw e;
    }
    return this.checkFields(module, criteria);
  }

  private checkFields(module: ModuleDef, c: Criteria): Criteria {
    if (c.kind === 'group') return { ...c, children: c.children.map((x) => this.checkFields(module, x)) };
    if (c.field === 'id' || SORTABLE_SYSTEM.includes(c.field)) return c;
    const f = findField(module, c.field);
    if (!f) throw Errors.invalidQuery(`invalid field ${c.field} in the criteria`, { api_name: c.field });
    return { ...c, field: f.apiName };
  }

  private async page(principal: Principal, module: ModuleDef, p: RecordListParams, filter: Criteria | null): Promise<RecordPage> {
    const page = positive(p.page, 'page', 1, Number.MAX_SAFE_INTEGER);
    const perPage = positive(p.per_page, 'per_page', 200, 200);
    const sortBy = p.sort_by ?? 'id';
    if (!SORTABLE_SYSTEM.includes(sortBy) && !findField(module, sortBy)) {
      throw Errors.invalidData(`sort_by ${sortBy} is not a field of ${module.apiName}`, { api_name: 'sort_by' });
    }
    const sortOrder = p.sort_order ?? (sortBy === 'id' ? 'asc' : 'desc');
    if (sortOrder !== 'asc' && sortOrder !== 'desc') throw Errors.invalidData('sort_order must be asc or desc', { api_name: 'sort_order' });
    const only = p.fields ? this.fieldSet(module, p.fields) : null;
    const rows = await this.store.listRecords(module.id, { filter, page, perPage, sortBy: findField(module, sortBy)?.apiName ?? sortBy, sortOrder });
    if (rows.length === 0) return null;
    const more = rows.length > perPage;
    const data = await this.render(principal, module, rows.slice(0, perPage), only);
    return { data, info: { per_page: perPage, count: data.length, page, more_records: more } };
  }

  private fieldSet(module: ModuleDef, text: string): Set<string> {
    const names = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
    for (const n of names) {
      if (!findField(module, n) && !['id', 'Created_Time', 'Modified_Time', 'Created_By', 'Modified_By'].includes(n)) {
        throw Errors.invalidData(`invalid field ${n} in fields`, { api_name: n });
      }
    }
    return new Set(names.map((n) => findField(module, n)?.apiName ?? n));
  }

  private async render(principal: Principal, module: ModuleDef, rows: readonly StoredRecord[], only: Set<string> | null): Promise<Record<string, unknown>[]> {
    const users = new Map<string, UserRefView>((await this.store.listUsers(principal.orgId)).map((u) => [u.id, u]));
    const modules = await this.store.listModules(principal.orgId);
    const lookupNames = new Map<string, string>();
    for (const f of module.fields.filter((x) => x.dataType === 'lookup')) {
      const target = modules.find((m) => m.apiName === f.lookupModule);
      const ids = [...new Set(rows.map((r) => r.values[f.apiName]).filter((v) => v !== null && v !== undefined).map(String))];
      if (!target || ids.length === 0) continue;
      const cols = target.fields.map((x) => x.apiName);
      for (const r of await this.store.findRecords(target.id, 'id', ids, cols)) lookupNames.set(r.id, displayName(target, r.values));
    }
    return rows.map((r) => renderRecord(module, r.id, r.values, { users, lookupNames, only }));
  }
}

function positive(raw: string | undefined, name: string, fallback: number, max: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw Errors.invalidData(`${name} must be a whole number from 1 to ${max}`, { api_name: name });
  }
  return n;
}
