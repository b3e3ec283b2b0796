import type { CellValue } from '../domain/coercion.js';
import { findField, foldKey, isUserField, type FieldDef, type ModuleDef } from '../domain/metadata.js';
import type { RecordKeys, Store, User } from '../ports/store.js';

/** The key two values of a unique or name field are compared by. */
export const normKey = (v: CellValue): string => (v === null ? '' : foldKey(v));

/** A lookup or user cell to resolve: which field, found by which field of its target, with what key. */
export interface ReferenceRequest {
  readonly field: FieldDef;
  readonly findBy: string;
  readonly key: string;
}

/** The store reads a batch needs, each one query per field whatever the number of rows. */
export class StoreLookups {
  private readonly usersById: ReadonlyMap<string, User>;
  private readonly usersByEmail: ReadonlyMap<string, User>;

  constructor(
    private readonly store: Pick<Store, 'findRecords' | 'findKeys'>,
    private readonly module: ModuleDef,
    private readonly uniqueFields: readonly FieldDef[],
    users: readonly User[],
    private readonly moduleByName: (apiName: string) => ModuleDef | undefined,
  ) {
    this.usersById = new Map(users.filter((u) => u.active).map((u) => [u.id, u]));
    this.usersByEmail = new Map(users.filter((u) => u.active).map((u) => [u.email.toLowerCase(), u]));
  }

  /**
   * Stored records by their find_by key (the record id for `id`), each with the keys (normKey) of
   * its unique fields, not their values: all a batch compares.
   */
  async matches(findBy: string, values: Iterable<string>): Promise<Map<string, RecordKeys>> {
    const out = new Map<string, RecordKeys>();
    const fields = this.uniqueFields.map((f) => f.apiName);
    const keyFields = findBy === 'id' || fields.includes(findBy) ? fields : [...fields, findBy];
    for (const r of await this.store.findKeys(this.module.id, findBy, [...new Set(values)], keyFields)) {
      out.set(findBy === 'id' ? r.id : r.keys[findBy] ?? '', r);
    }
    return out;
  }

  /**
   * For each unique field: normalised value → id of the stored record holding it. `known` gives
   * the owners already read for a field (records matched by it, keyed by normalised value).
   */
  async uniqueOwners(
    requests: readonly { field: FieldDef; values: readonly (CellValue | undefined)[]; known: ReadonlyMap<string, RecordKeys> | null }[],
  ): Promise<Map<string, Map<string, string | null>>> {
    const out = new Map<string, Map<string, string | null>>();
    for (const { field, values, known } of requests) {
      const owners = new Map<string, string | null>();
      if (known !== null) {
        for (const [key, r] of known) owners.set(key, r.id);
      } else {
        const keys = new Set<string>();
        for (const v of values) if (v !== undefined && v !== null) keys.add(String(v));
        for (const r of await this.store.findKeys(this.module.id, field.apiName, [...keys], [field.apiName])) {
          owners.set(r.keys[field.apiName] ?? '', r.id);
        }
      }
      out.set(field.apiName, owners);
    }
    return out;
  }

  /** Resolves lookup and user keys; the map is keyed `field\0findBy\0foldKey(key)` → record or user id. */
  async references(requests: Iterable<ReferenceRequest>): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const wanted = new Map<string, { field: FieldDef; findBy: string; keys: Set<string> }>();
    for (const ref of requests) {
      const k = `${ref.field.apiName}\u0000${ref.findBy}`;
      const w = wanted.get(k) ?? { field: ref.field, findBy: ref.findBy, keys: new Set<string>() };
      w.keys.add(ref.key);
      wanted.set(k, w);
    }
    for (const [k, w] of wanted) {
      if (isUserField(w.field)) {
        for (const key of w.keys) {
          const user = w.findBy === 'email' ? this.usersByEmail.get(key.toLowerCase()) : this.usersById.get(key);
          if (user) out.set(`${k}\u0000${foldKey(key)}`, user.id);
        }
        continue;
      }
      const target = w.field.lookupModule ? this.moduleByName(w.field.lookupModule) : undefined;
      if (!target) continue;
      const targetField = w.findBy === 'id' ? null : findField(target, w.findBy);
      const column = targetField?.apiName ?? 'id';
      const found = await this.store.findRecords(target.id, column, [...w.keys], column === 'id' ? [] : [column]);
      // A name that several records share cannot say which one is meant: it stays unresolved.
      const byKey = new Map<string, string | null>();
      for (const r of found) {
        const key = column === 'id' ? r.id : normKey(r.values[column] ?? '');
        byKey.set(key, byKey.has(key) ? null : r.id);
      }
      for (const [key, id] of byKey) if (id !== null) out.set(`${k}\u0000${key}`, id);
    }
    return out;
  }
}
