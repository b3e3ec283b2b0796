import { coerceValue, type CellValue, type CoercionContext } from '../domain/coercion.js';
import type { FieldMapping, Operation } from '../domain/job.js';
import { foldKey, isUserField, type FieldDef, type ModuleDef } from '../domain/metadata.js';
import type { RowError, RowOutcome } from '../domain/row-result.js';
import type { RecordInsert, RecordUpdate, Store, StoredRecord, User } from '../ports/store.js';
import { normKey, StoreLookups } from './store-lookups.js';

export interface ResourcePlan {
  readonly operation: Operation;
  readonly module: ModuleDef;
  readonly mappings: readonly FieldMapping[];
  readonly findBy: string | null;
  readonly ignoreEmpty: boolean;
  readonly timeZone: string;
  readonly maxRows: number;
  /** Columns of the CSV header; a row with another count is ragged. */
  readonly columnCount: number;
  readonly actor: User;
  readonly users: readonly User[];
  readonly moduleByName: (apiName: string) => ModuleDef | undefined;
}

export interface BatchResult {
  readonly outcomes: RowOutcome[];
  readonly inserts: RecordInsert[];
  readonly updates: RecordUpdate[];
  /** Picklist values first seen in this batch, to append to their fields (field api_name → values). */
  readonly newPicklistValues: ReadonlyMap<string, readonly string[]>;
}

/** What a batch decided and has not been seen committed yet: later batches must see it too. */
interface InFlightBatch {
  readonly batch: number;
  readonly keys: ReadonlyMap<string, StoredRecord>;
  /** Unique-field values of the records the batch wrote, by record id, as they stand after it. */
  readonly touched: ReadonlyMap<string, Readonly<Record<string, CellValue>>>;
  readonly owners: ReadonlyMap<string, ReadonlyMap<string, string | null>>;
}

interface CellPlan {
  readonly index: number | null;
  readonly defaultValue: string | null;
  /** null for the `id` column of a resource matched by id. */
  readonly field: FieldDef | null;
  readonly context: CoercionContext;
  /** How a lookup or user field is found; null for other fields. */
  readonly findBy: string | null;
  readonly picklist: boolean;
  /** The cell holds the resource's find_by key. */
  readonly isFindBy: boolean;
}

const NOT_BLANK = /\S/;

interface PreparedRow {
  readonly values: Map<string, CellValue>;
  readonly refs: Map<string, { readonly field: FieldDef; readonly findBy: string; readonly key: string }>;
  readonly errors: RowError[];
  matchKey: string | null;
  /** Set for a row refused as a whole before its cells are looked at (over the row limit, ragged). */
  readonly refused: RowError | null;
}

type Lookup = Pick<Store, 'findRecords' | 'allocateIds'>;

const NO_ERRORS: readonly RowError[] = [];
const LIMIT_EXCEEDED: RowError = { code: 'LIMIT_EXCEEDED', field: null };
const CANNOT_PROCESS: RowError = { code: 'CANNOT_PROCESS', field: null };

/**
 * Turns a batch of CSV rows into row outcomes and record writes, in input order, as Zoho would
 * if the rows were applied one after another: a row sees the records written by earlier rows.
 */
export class BatchProcessor {
  private readonly fields: ReadonlyMap<string, FieldDef>;
  private readonly uniqueFields: readonly FieldDef[];
  private readonly mandatoryFields: readonly FieldDef[];
  private readonly lookups: StoreLookups;
  /** Per picklist field: lower-cased value → the spelling the picklist keeps. */
  private readonly picklists = new Map<string, Map<string, string>>();
  private newPicklistValues = new Map<string, string[]>();
  private inFlight: InFlightBatch[] = [];
  /** Each mapping, resolved once: the per-cell loop is the hottest code of an import. */
  private readonly cells: readonly CellPlan[];
  private batchNo = 0;

  constructor(
    private readonly plan: ResourcePlan,
    private readonly store: Lookup,
  ) {
    this.fields = new Map(plan.module.fields.map((f) => [f.apiName, f]));
    this.uniqueFields = plan.module.fields.filter((f) => f.unique);
    this.mandatoryFields = plan.module.fields.filter((f) => f.mandatory);
    this.lookups = new StoreLookups(store, plan.module, this.uniqueFields, plan.users, plan.moduleByName);
    this.cells = plan.mappings.map((m) => {
      const field = m.apiName === 'id' ? null : (this.fields.get(m.apiName) as FieldDef);
      const isRef = field !== null && (field.dataType === 'lookup' || isUserField(field));
      return {
        index: m.index,
        defaultValue: m.defaultValue ? String(m.defaultValue.value) : null,
        field,
        context: { timeZone: plan.timeZone, format: m.format },
        findBy: isRef ? m.findBy ?? 'id' : null,
        picklist: field !== null && (field.dataType === 'picklist' || field.dataType === 'multiselectpicklist'),
        isFindBy: m.apiName === plan.findBy,
      };
    });
    for (const f of plan.module.fields) {
      if (f.dataType === 'picklist' || f.dataType === 'multiselectpicklist') {
        this.picklists.set(f.apiName, new Map(f.picklistValues.map((v) => [v.toLowerCase(), v])));
      }
    }
  }

  /**
   * @param firstRow 1-based number of the batch's first data row in the CSV.
   * @param committedBatches how many of the batches this processor returned are committed now. A
   * batch may be processed while the previous one is still being written (JobRunner pipelines its
   * commits), so the decisions of batches not yet committed are kept here and consulted along with
   * the store; the count is read before the store is queried, so nothing falls between the two.
   */
  async process(rows: readonly (readonly string[])[], firstRow: number, now: string, committedBatches = this.batchNo): Promise<BatchResult> {
    this.newPicklistValues = new Map();
    this.inFlight = this.inFlight.filter((b) => b.batch >= committedBatches);
    const prepared = rows.map((row, k) => this.prepare(row, firstRow + k));
    const keys = prepared.map((p) => p.matchKey).filter((k): k is string => k !== null);
    const stored = this.plan.findBy === null ? new Map<string, StoredRecord>() : await this.lookups.matches(this.plan.findBy, keys);
    const matches = { get: (key: string): StoredRecord | undefined => this.inFlightKey(key) ?? stored.get(key) };
    const dbOwners = await this.lookups.uniqueOwners(prepared.map((p) => p.values));
    const taken = this.ownersView(dbOwners);
    const refs = await this.lookups.references(prepared.flatMap((p) => [...p.refs].map(([apiName, ref]) => ({ apiName, ...ref }))));
    const ids = await this.store.allocateIds(prepared.filter((p) => p.refused === null).length);
    let nextId = 0;

    const outcomes: RowOutcome[] = [];
    const inserts: RecordInsert[] = [];
    const updates: RecordUpdate[] = [];
    const addedByKey = new Map<string, StoredRecord>();
    const touched = new Map<string, Record<string, CellValue>>();
    const insertedNow = new Map<string, RecordInsert>();
    for (const p of prepared) {
      if (p.refused !== null) {
        outcomes.push({ status: 'SKIPPED', recordId: null, errors: [p.refused] });
        continue;
      }
      const candidateId = ids[nextId++] as string;
      const matched = p.matchKey === null ? undefined : addedByKey.get(p.matchKey) ?? matches.get(p.matchKey);
      const errors = p.errors;
      let mode: 'insert' | 'update';
      if (this.plan.operation === 'update') {
        mode = 'update';
        // A find_by cell that is itself invalid already says why the row has no match.
        if (!matched && !errors.some((e) => e.field === this.plan.findBy)) {
          errors.push({ code: p.matchKey === null ? 'MANDATORY_NOT_FOUND' : 'RESOURCE_NOT_FOUND', field: this.plan.findBy });
        }
      } else if (this.plan.operation === 'upsert') {
        mode = matched ? 'update' : 'insert';
      } else {
        mode = 'insert';
        if (matched) errors.push({ code: 'DUPLICATE_DATA', field: this.plan.findBy });
      }
      const recordId = mode === 'update' && matched ? matched.id : candidateId;
      // The record as earlier rows left it (this batch, then batches still being written, then the store).
      const current = matched ? touched.get(matched.id) ?? this.inFlightTouched(matched.id) ?? matched.values : undefined;

      for (const [apiName, ref] of p.refs) {
        const resolved = refs.get(`${apiName}\u0000${ref.findBy}\u0000${foldKey(ref.key)}`);
        if (resolved) p.values.set(apiName, resolved);
        else errors.push({ code: 'INVALID_DATA', field: apiName });
      }
      for (const f of this.mandatoryFields) {
        const v = p.values.get(f.apiName);
        const missing = mode === 'insert' ? v === undefined || v === null : p.values.has(f.apiName) && v === null;
        if (missing && !p.refs.has(f.apiName) && !errors.some((e) => e.field === f.apiName)) {
          errors.push({ code: 'MANDATORY_NOT_FOUND', field: f.apiName });
        }
      }
      for (const f of this.uniqueFields) {
        const v = p.values.get(f.apiName);
        if (v === undefined || v === null) continue;
        const owner = taken.get(f.apiName, normKey(v));
        if (owner && owner !== recordId) errors.push({ code: 'DUPLICATE_DATA', field: f.apiName });
      }

      if (errors.length > 0) {
        outcomes.push({ status: 'SKIPPED', recordId: null, errors: errors.length > 1 ? dedupe(errors) : errors });
        continue;
      }
      for (const f of this.uniqueFields) {
        const v = p.values.get(f.apiName);
        if (!p.values.has(f.apiName)) continue;
        const previous = current?.[f.apiName];
        if (mode === 'update' && previous !== undefined && previous !== null) taken.set(f.apiName, normKey(previous), null);
        if (v !== undefined && v !== null) taken.set(f.apiName, normKey(v), recordId);
      }
      const actor = this.plan.actor.id;
      if (mode === 'insert') {
        const values: Record<string, CellValue> = { Owner: actor, Created_Time: now, Modified_Time: now, Created_By: actor, Modified_By: actor };
        for (const [k, v] of p.values) if (v !== null || k !== 'Owner') values[k] = v;
        const insert = { id: recordId, values };
        inserts.push(insert);
        insertedNow.set(recordId, insert);
        if (p.matchKey !== null) addedByKey.set(p.matchKey, { id: recordId, values });
        touched.set(recordId, values);
        outcomes.push({ status: 'ADDED', recordId, errors: NO_ERRORS });
      } else {
        const values: Record<string, CellValue> = { Modified_Time: now, Modified_By: actor };
        // An empty Owner cell leaves the owner as it is: a record always has one.
        for (const [k, v] of p.values) if (v !== null || k !== 'Owner') values[k] = v;
        // A record this batch inserts takes the update into its insert: stores apply a batch's
        // updates before its inserts (so a unique value an update frees is free for an insert).
        const insert = insertedNow.get(recordId);
        if (insert) Object.assign(insert.values, values);
        else updates.push({ id: recordId, values });
        touched.set(recordId, { ...(current ?? {}), ...values });
        outcomes.push({ status: 'UPDATED', recordId, errors: NO_ERRORS });
      }
    }
    this.inFlight.push({ batch: this.batchNo++, keys: addedByKey, touched, owners: taken.changes });
    return { outcomes, inserts, updates, newPicklistValues: this.newPicklistValues };
  }

  private prepare(row: readonly string[], rowNumber: number): PreparedRow {
    const refused: RowError | null =
      rowNumber > this.plan.maxRows ? LIMIT_EXCEEDED : isRagged(row, this.plan.columnCount) ? CANNOT_PROCESS : null;
    const p: PreparedRow = { values: new Map(), refs: new Map(), errors: [], matchKey: null, refused };
    if (refused !== null) return p;
    for (const c of this.cells) {
      let cell = c.index === null ? '' : row[c.index] ?? '';
      let blank = !NOT_BLANK.test(cell);
      if (blank && c.defaultValue !== null) {
        cell = c.defaultValue;
        blank = !NOT_BLANK.test(cell);
      }
      if (c.field === null) {
        // The id column of a resource matched by id.
        if (c.isFindBy && !blank) p.matchKey = cell.trim();
        continue;
      }
      const field = c.field;
      if (blank) {
        if (!this.plan.ignoreEmpty) p.values.set(field.apiName, null);
        continue;
      }
      const coerced = coerceValue(field, cell, c.context);
      if (!coerced.ok) {
        p.errors.push({ code: 'INVALID_DATA', field: field.apiName });
        continue;
      }
      if (c.findBy !== null) {
        p.refs.set(field.apiName, { field, findBy: c.findBy, key: String(coerced.value) });
      } else if (c.picklist) {
        p.values.set(field.apiName, this.canonicalPicklist(field, String(coerced.value)));
      } else {
        p.values.set(field.apiName, coerced.value);
      }
      if (c.isFindBy && coerced.value !== null) p.matchKey = normKey(coerced.value);
    }
    return p;
  }

  /** A known value in the picklist's spelling; an unknown one is kept and appended to the picklist. */
  private canonicalPicklist(field: FieldDef, value: string): string {
    const known = this.picklists.get(field.apiName) as Map<string, string>;
    const parts = field.dataType === 'multiselectpicklist' ? value.split(';') : [value];
    const out = parts.map((v) => {
      const hit = known.get(v.toLowerCase());
      if (hit !== undefined) return hit;
      known.set(v.toLowerCase(), v);
      const added = this.newPicklistValues.get(field.apiName) ?? [];
      added.push(v);
      this.newPicklistValues.set(field.apiName, added);
      return v;
    });
    return out.join(';');
  }

  private inFlightTouched(id: string): Readonly<Record<string, CellValue>> | undefined {
    for (let i = this.inFlight.length - 1; i >= 0; i--) {
      const hit = (this.inFlight[i] as InFlightBatch).touched.get(id);
      if (hit) return hit;
    }
    return undefined;
  }

  private inFlightKey(key: string): StoredRecord | undefined {
    for (let i = this.inFlight.length - 1; i >= 0; i--) {
      const hit = (this.inFlight[i] as InFlightBatch).keys.get(key);
      if (hit) return hit;
    }
    return undefined;
  }

  /**
   * Who holds each unique value: this batch's own decisions first, then those of batches still
   * being written, then the store. `changes` collects this batch's decisions.
   */
  private ownersView(db: Map<string, Map<string, string | null>>) {
    const changes = new Map<string, Map<string, string | null>>();
    const inFlight = this.inFlight;
    return {
      changes,
      get(field: string, value: string): string | null | undefined {
        const own = changes.get(field);
        if (own?.has(value)) return own.get(value);
        for (let i = inFlight.length - 1; i >= 0; i--) {
          const m = (inFlight[i] as InFlightBatch).owners.get(field);
          if (m?.has(value)) return m.get(value);
        }
        return db.get(field)?.get(value);
      },
      set(field: string, value: string, id: string | null): void {
        let own = changes.get(field);
        if (!own) changes.set(field, (own = new Map()));
        own.set(value, id);
      },
    };
  }

}

/** Fewer cells than the header, or more that are not just empty trailing cells. */
function isRagged(row: readonly string[], columns: number): boolean {
  if (row.length < columns) return true;
  for (let i = columns; i < row.length; i++) if ((row[i] as string).trim() !== '') return true;
  return false;
}

function dedupe(errors: readonly RowError[]): RowError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const k = `${e.code}\u0000${e.field ?? ''}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
