import { cellBytesCheck, spelledCheck, type CellBytesCheck } from '../domain/cell-bytes.js';
import { coerceCell, HOLDS_NUL, holdsNul, Refusal, type CellValue, type CoercionContext } from '../domain/coercion.js';
import type { FieldMapping, Operation } from '../domain/job.js';
import { foldKey, isUserField, type FieldDef, type ModuleDef } from '../domain/metadata.js';
import type { RowError, RowOutcome } from '../domain/row-result.js';
import type { RecordKeys, RecordLines, RecordRows, Store, User } from '../ports/store.js';
import { splitOn, type BatchRecordBytes } from './csv-byte-reader.js';
import { echoesRecordBytes } from './result-file.js';
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
  /**
   * Insert jobs only: the store is not asked who holds each row's unique values; only this job's
   * uncommitted batches are consulted. A value that a stored record holds (another job's, or one
   * this job committed earlier) is refused by the store's unique indexes at commit
   * (UniqueConflictError), and the job reruns from its checkpoint without trusting them. Saves a
   * query per unique field per batch, which in most imports finds nothing.
   */
  readonly trustUniqueIndexes: boolean;
  /** The store takes inserts with their CSV lines (Store.writesRecordLines). */
  readonly recordLines?: boolean;
  /** The CSV's delimiter byte, for RecordLines. */
  readonly delimiter?: number;
  /** Columns the result file echoes: their cells are always read as strings (cellChecks). */
  readonly echoedColumns?: readonly number[];
}

export interface BatchResult {
  readonly outcomes: RowOutcome[];
  readonly inserts: RecordRows;
  readonly updates: RecordRows;
  /** Picklist values first seen in this batch, to append to their fields (field api_name → values). */
  readonly newPicklistValues: ReadonlyMap<string, readonly string[]>;
}

/** A record's unique-field keys (normKey of their values; only those), as the rows so far left them. */
type UniqueValues = Readonly<Record<string, string | null>>;

/** What a batch decided and has not been seen committed yet: later batches must see it too. */
interface InFlightBatch {
  readonly batch: number;
  readonly keys: ReadonlyMap<string, RecordKeys>;
  /** Unique-field values of the records the batch wrote, by record id, as they stand after it. */
  readonly touched: ReadonlyMap<string, UniqueValues>;
  readonly owners: ReadonlyMap<string, OwnerLookup>;
}

interface CellPlan {
  readonly index: number | null;
  readonly defaultValue: string | null;
  /** null for the `id` column of a resource matched by id. */
  readonly field: FieldDef | null;
  /** Where the field's value goes in a row's values (its column of the written records); -1 for `id`. */
  readonly slot: number;
  readonly context: CoercionContext;
  /** How a lookup or user field is found; null for other fields. */
  readonly findBy: string | null;
  readonly picklist: boolean;
  /** The cell holds the resource's find_by key. */
  readonly isFindBy: boolean;
}

/** A field the rules look at, and its slot among the mapped columns (-1 when it is not mapped). */
interface FieldSlot {
  readonly field: FieldDef;
  readonly slot: number;
}

const NOT_BLANK = /\S/;

/** Whether trim() would leave nothing of a cell; most cells start with printable ASCII and are answered without the regex. */
function isBlank(cell: string): boolean {
  const c = cell.charCodeAt(0);
  if (c > 32 && c < 127) return false;
  return !NOT_BLANK.test(cell);
}

interface Reference {
  readonly slot: number;
  readonly field: FieldDef;
  readonly findBy: string;
  readonly key: string;
}

/**
 * A batch's values by column, as its rows give them (`[slot][k]` for row k); undefined where a row
 * gives no value (a blank cell under ignore_empty, an unresolved reference, a refused row). Rows
 * are prepared straight into these columns, and a batch whose rows all become inserts (or all
 * updates), in order, hands them to the store as they are: no values array per row, no copy.
 */
type BatchColumns = (CellValue | undefined)[][];

/** What a row says beyond its values (those are in the BatchColumns). */
interface PreparedRow {
  refs: Reference[] | null;
  /** null until the row has an error: most rows have none, and a million empty arrays cost GC time. */
  errors: RowError[] | null;
  matchKey: string | null;
  /** The find_by value as given: the store folds it once (foldKey is not idempotent for every string). */
  matchValue: string | null;
  /** Set for a row refused as a whole before its cells are looked at (over the row limit, ragged). */
  readonly refused: RowError | null;
  /** Every value is its cell as read (RecordRows.lines): its record's bytes can be written as they are. */
  verbatim: boolean;
}

type Lookup = Pick<Store, 'findRecords' | 'findKeys' | 'allocateIds'>;

const NO_ERRORS: readonly RowError[] = [];
const NOTHING: UniqueValues = Object.freeze({});
const NO_OWNERS: ReadonlyMap<string, RecordKeys> = new Map();
const LIMIT_EXCEEDED: RowError = { code: 'LIMIT_EXCEEDED', field: null };
const CANNOT_PROCESS: RowError = { code: 'CANNOT_PROCESS', field: null };

function addError(p: PreparedRow, e: RowError): void {
  if (p.errors === null) p.errors = [e];
  else p.errors.push(e);
}

function hasErrorOn(p: PreparedRow, field: string): boolean {
  return p.errors !== null && p.errors.some((e) => e.field === field);
}

/**
 * A packed array of `n` undefined slots, to be filled by index. An array grown by push is
 * reallocated as it grows (about three times its final size allocated in all), and one made by
 * `new Array(n)` has holes: it stays "holey" in V8, and a holey array crosses to the writer
 * thread twice as slowly (cloned key by key). Keep `n` under 16,000: a larger array is a V8
 * large object, ~30 times slower to allocate (0.64 ms for 20,000 slots, measured).
 */
function packedSlots<T>(n: number): T[] {
  while (BLANK.length < n) BLANK.push(undefined);
  return BLANK.slice(0, n) as T[];
}
/** Grows to the largest size asked for, once. */
const BLANK: undefined[] = [];

/**
 * The columns a store binds without looking at each record, filled as rows are written. While the
 * rows written are the batch's rows 0, 1, 2… in order, it only counts them and lends the batch's
 * own columns; the first row out of that order makes it copy what it has into columns of its own.
 */
class RowsBuilder {
  readonly ids: string[];
  /** By column (RecordRows.values); the batch's own columns while `lent`. */
  private values: (CellValue | undefined)[][];
  private lent = true;
  private count = 0;

  /** @param capacity the most rows the batch can write */
  constructor(
    private readonly batch: BatchColumns,
    private readonly capacity: number,
  ) {
    this.ids = packedSlots(capacity);
    this.values = batch;
  }

  /** Appends row k of the batch, returning its index here. */
  add(id: string, k: number): number {
    const row = this.count++;
    this.ids[row] = id;
    if (this.lent && k !== row) this.ownColumns(row);
    if (!this.lent) {
      for (let c = 0; c < this.values.length; c++) (this.values[c] as (CellValue | undefined)[])[row] = (this.batch[c] as (CellValue | undefined)[])[k];
    }
    return row;
  }

  set(row: number, slot: number, v: CellValue): void {
    (this.values[slot] as (CellValue | undefined)[])[row] = v;
  }

  /** Leaves a row without values (a row written as its CSV line sends none: RecordRows.lines). */
  clear(row: number): void {
    const values = this.values;
    for (let c = 0; c < values.length; c++) (values[c] as (CellValue | undefined)[])[row] = undefined;
  }

  /** Copies the first `rows` rows (the batch's rows 0…rows-1) into columns of its own. */
  private ownColumns(rows: number): void {
    this.values = this.batch.map((column) => {
      const own = packedSlots<CellValue | undefined>(this.capacity);
      for (let r = 0; r < rows; r++) own[r] = column[r];
      return own;
    });
    this.lent = false;
  }

  /** The rows written, the unused slots cut off (which keeps the arrays packed). */
  rows(): { ids: string[]; values: (CellValue | undefined)[][] } {
    this.ids.length = this.count;
    // No rows: the batch's columns may be lent to the other builder; they are not cut here.
    if (this.count === 0) return { ids: this.ids, values: this.batch.map(() => []) };
    for (const column of this.values) column.length = this.count;
    // A column no row gives a value goes empty (RecordRows.values): rows written as their CSV lines
    // leave most columns so, and the bench's eight such columns of 2,000 undefined slots cost the
    // structured clone to the commit thread ~0.06 ms a batch to write and ~0.18 ms to read.
    return { ids: this.ids, values: this.values.map((column) => (column.every(isUnset) ? [] : column)) };
  }
}

/**
 * Turns a batch of CSV rows into row outcomes and record writes, in input order, as Zoho would
 * if the rows were applied one after another: a row sees the records written by earlier rows.
 */
export class BatchProcessor {
  private readonly fields: ReadonlyMap<string, FieldDef>;
  /** The mapped fields, in mapping order: the columns of the records a batch writes. */
  private readonly columns: readonly string[];
  private readonly ownerSlot: number;
  private readonly uniqueSlots: readonly FieldSlot[];
  private readonly mandatory: readonly FieldSlot[];
  /** By position in `mandatory`: its cells have a check, so a checked row has a value there (not read). */
  private readonly mandatoryChecked: readonly boolean[];
  private readonly lookups: StoreLookups;
  /** Per picklist field: lower-cased value, and each spelling met, → the spelling the picklist keeps. */
  private readonly picklists = new Map<string, Map<string, string>>();
  private newPicklistValues = new Map<string, string[]>();
  private inFlight: InFlightBatch[] = [];
  /** Each mapping, resolved once: the per-cell loop is the hottest code of an import. */
  private readonly cells: readonly CellPlan[];
  /**
   * Whether an inserted row can go to the store as its CSV line: the store takes lines, and each
   * column of the CSV is mapped, in order, to a field of its own whose value is the cell as it is.
   */
  private readonly linesUsable: boolean;
  /** Whether batches should bring their records' bytes (CsvBatch.recordBytes): only then are lines sent. */
  get takesRecordBytes(): boolean {
    return this.linesUsable;
  }
  /** Per CSV column, the check that spares its cells a string when lines are sent; null: read them. */
  private readonly checks: readonly (CellBytesCheck | null)[] | undefined;
  /** The cells a checked row is read for (those of columns without a check). */
  private readonly readCells: readonly CellPlan[];
  /**
   * For readCsvBatches' cellChecks: a row whose other cells pass these is only read for the cells
   * the batch looks at (unique fields, echoed columns, and columns without a check: date-times,
   * multi-select picklists, dates in another format), and goes to the store as its line. Undefined
   * where rows are not sent as lines.
   */
  get cellChecks(): readonly (CellBytesCheck | null)[] | undefined {
    return this.checks;
  }
  private batchNo = 0;

  constructor(
    private readonly plan: ResourcePlan,
    private readonly store: Lookup,
  ) {
    this.fields = new Map(plan.module.fields.map((f) => [f.apiName, f]));
    const uniqueFields = plan.module.fields.filter((f) => f.unique);
    this.lookups = new StoreLookups(store, plan.module, uniqueFields, plan.users, plan.moduleByName);
    const columns: string[] = [];
    this.cells = plan.mappings.map((m) => {
      const field = m.apiName === 'id' ? null : (this.fields.get(m.apiName) as FieldDef);
      const isRef = field !== null && (field.dataType === 'lookup' || isUserField(field));
      if (field !== null) columns.push(field.apiName);
      return {
        index: m.index,
        defaultValue: m.defaultValue ? String(m.defaultValue.value) : null,
        field,
        slot: field === null ? -1 : columns.length - 1,
        context: { timeZone: plan.timeZone, format: m.format },
        findBy: isRef ? m.findBy ?? 'id' : null,
        picklist: field !== null && (field.dataType === 'picklist' || field.dataType === 'multiselectpicklist'),
        isFindBy: m.apiName === plan.findBy,
      };
    });
    this.columns = columns;
    this.ownerSlot = columns.indexOf('Owner');
    const slotOf = (f: FieldDef): FieldSlot => ({ field: f, slot: columns.indexOf(f.apiName) });
    this.uniqueSlots = uniqueFields.map(slotOf).filter((u) => u.slot >= 0);
    this.mandatory = plan.module.fields.filter((f) => f.mandatory).map(slotOf);
    this.linesUsable =
      plan.recordLines === true &&
      plan.operation === 'insert' &&
      this.cells.length === plan.columnCount &&
      this.cells.every((c, i) => c.index === i && c.field !== null && c.findBy === null && c.slot === i);
    // A checked row is a record kept as bytes: its echoed cells are written from them when they can be.
    const fromBytes = plan.delimiter !== undefined && echoesRecordBytes(plan.delimiter, plan.echoedColumns ?? []);
    const echoed = new Set(fromBytes ? [] : plan.echoedColumns ?? []);
    for (const f of plan.module.fields) {
      if (f.dataType === 'picklist' || f.dataType === 'multiselectpicklist') {
        this.picklists.set(f.apiName, new Map(f.picklistValues.map((v) => [v.toLowerCase(), v])));
      }
    }
    // Read as strings: unique values (the rows' owners are kept here) and echoed cells. A cell
    // without a check is read too; one with a check passes it with a value, mandatory or not. A
    // name field's key is read from the line by the store (RecordRows.lines).
    const read = (c: CellPlan, i: number): boolean => (c.field as FieldDef).unique || c.isFindBy || echoed.has(i);
    // A boolean's value is never its cell: no row of such a file is written as its line.
    const someLines = this.linesUsable && !this.cells.some((c) => c.field?.dataType === 'boolean');
    const checks = someLines ? this.cells.map((c, i) => (read(c, i) ? null : this.checkOf(c))) : [];
    this.checks = checks.some((c) => c !== null) ? checks : undefined;
    this.readCells = this.checks ? this.cells.filter((_, i) => checks[i] === null) : [];
    // Lines are sent only where each column is its field's slot: a check is found by slot.
    this.mandatoryChecked = this.mandatory.map(({ slot }) => slot >= 0 && checks[slot] !== undefined && checks[slot] !== null);
  }

  /**
   * The check that spares a cell of `c` its string. A picklist's is its values spelled as the
   * picklist keeps them and as coerceCell takes them: any other spelling, or a new value, is read
   * and canonicalized (canonicalPicklist) as before.
   */
  private checkOf(c: CellPlan): CellBytesCheck | null {
    const f = c.field as FieldDef;
    // A multi-select picklist has none (cellBytesCheck): its values are split and rejoined.
    if (f.dataType !== 'picklist') return cellBytesCheck(f, c.context);
    const known = this.picklists.get(f.apiName) as Map<string, string>;
    return spelledCheck(f.picklistValues.filter((v) => !isBlank(v) && known.get(v.toLowerCase()) === v && coerceCell(f, v, c.context) === v));
  }

  /**
   * @param firstRow 1-based number of the batch's first data row in the CSV.
   * @param committedBatches how many of the batches this processor returned are committed now. A
   * batch may be processed while the previous one is still being written (JobRunner pipelines its
   * commits), so the decisions of batches not yet committed are kept here and consulted along with
   * the store; the count is read before the store is queried, so nothing falls between the two.
   */
  async process(rows: readonly (readonly string[])[], firstRow: number, now: string, committedBatches = this.batchNo): Promise<BatchResult> {
    const { findBy, operation } = this.plan;
    const trustIndexes = this.plan.trustUniqueIndexes && operation === 'insert';
    this.newPicklistValues = new Map();
    this.inFlight = this.inFlight.filter((b) => b.batch >= committedBatches);
    const width = this.columns.length;
    const cols: BatchColumns = [];
    for (let c = 0; c < width; c++) cols.push(packedSlots<CellValue | undefined>(rows.length));
    const recordBytes = this.linesUsable ? (rows as { recordBytes?: BatchRecordBytes }).recordBytes : undefined;
    const nulRows = (rows as { nulRows?: ReadonlySet<number> }).nulRows;
    const prepared = rows.map((row, k) => this.prepare(row, firstRow + k, cols, k, recordBytes, nulRows?.has(k) === true));
    const findByValues: string[] = [];
    for (const p of prepared) if (p.matchValue !== null) findByValues.push(p.matchValue);
    const stored = findBy === null ? new Map<string, RecordKeys>() : await this.lookups.matches(findBy, findByValues);
    const matches = { get: (key: string): RecordKeys | undefined => this.inFlightKey(key) ?? stored.get(key) };
    const dbOwners = await this.lookups.uniqueOwners(
      this.uniqueSlots.map(({ field, slot }) =>
        // The find_by field's owners are the records just matched by it: no second query.
        field.apiName === findBy
          ? { field, values: [], known: stored }
          : trustIndexes
            ? { field, values: [], known: NO_OWNERS }
            : { field, values: cols[slot] as (CellValue | undefined)[], known: null },
      ),
    );
    const taken = this.ownersView(dbOwners, this.uniqueSlots.map((u) => u.field.apiName));
    const owners = taken.byField;
    const refs = await this.lookups.references(prepared.flatMap((p) => p.refs ?? []));
    // Ids only for the rows that may insert: a row with errors already, or one that an update job
    // or a stored match makes an update, needs none (an upsert onto existing records reserved an id
    // per row, each reservation a write that waited for the commit thread's).
    const mayInsert = (p: PreparedRow): boolean =>
      p.refused === null && p.errors === null && operation !== 'update' && (operation === 'insert' || p.matchKey === null || matches.get(p.matchKey) === undefined);
    const ids = await this.store.allocateIds(prepared.filter(mayInsert).length);
    let nextId = 0;

    const actor = this.plan.actor.id;
    const outcomes = packedSlots<RowOutcome>(prepared.length);
    const inserts = new RowsBuilder(cols, operation === 'update' ? 0 : prepared.length);
    const lines = recordBytes ? newLines(recordBytes, prepared.length, this.plan) : undefined;
    let linesSent = 0;
    const updates = new RowsBuilder(cols, operation === 'insert' ? 0 : prepared.length);
    const addedByKey = new Map<string, RecordKeys>();
    const touched = new Map<string, UniqueValues>();
    /** Record id → its row among this batch's inserts. */
    const insertedNow = new Map<string, number>();
    // Only a row that updates looks up what earlier rows wrote to its record; an insert job keeps
    // no per-record state (a million-row insert saves a map entry and an object per row).
    const tracksRecords = operation !== 'insert';
    /** The current row's unique values as keys (normKey), by position in uniqueSlots: folded once. */
    const uniqueKeys: (string | null)[] = new Array(this.uniqueSlots.length).fill(null);
    const valueAt = (slot: number, k: number): CellValue | undefined => (cols[slot] as (CellValue | undefined)[])[k];
    /** Trusting the indexes: skipped rows with unique values → by position in uniqueSlots, who held each before them (undefined: not this job). */
    let skippedOwners: Map<number, Record<number, string | null | undefined>> | undefined;
    for (let k = 0; k < prepared.length; k++) {
      const p = prepared[k] as PreparedRow;
      if (p.refused !== null) {
        outcomes[k] = { status: 'SKIPPED', recordId: null, errors: [p.refused] };
        continue;
      }
      const matched = p.matchKey === null ? undefined : addedByKey.get(p.matchKey) ?? matches.get(p.matchKey);
      let mode: 'insert' | 'update';
      if (operation === 'update') {
        mode = 'update';
        // A find_by cell that is itself invalid already says why the row has no match.
        if (!matched && !hasErrorOn(p, findBy as string)) {
          addError(p, { code: p.matchKey === null ? 'MANDATORY_NOT_FOUND' : 'RESOURCE_NOT_FOUND', field: findBy });
        }
      } else if (operation === 'upsert') {
        mode = matched ? 'update' : 'insert';
      } else {
        mode = 'insert';
        if (matched) addError(p, { code: 'DUPLICATE_DATA', field: findBy });
      }
      // A row that writes nothing has no record: '' is no record's id, so no unique value is its own.
      const recordId = matched && mode === 'update' ? matched.id : mode === 'insert' && p.errors === null ? (ids[nextId++] as string) : '';
      // The record as earlier rows left it (this batch, then batches still being written, then the store).
      const current = matched ? touched.get(matched.id) ?? this.inFlightTouched(matched.id) ?? matched.keys : undefined;
      if (p.refs !== null) {
        for (const ref of p.refs) {
          const resolved = refs.get(`${ref.field.apiName}\u0000${ref.findBy}\u0000${foldKey(ref.key)}`);
          if (resolved) (cols[ref.slot] as (CellValue | undefined)[])[k] = resolved;
          else addError(p, { code: 'INVALID_DATA', field: ref.field.apiName });
        }
      }
      const checkedRow = recordBytes !== undefined && recordBytes.checked[k] === true;
      for (let m = 0; m < this.mandatory.length; m++) {
        if (checkedRow && this.mandatoryChecked[m] === true) continue;
        const { field, slot } = this.mandatory[m] as FieldSlot;
        const v = slot < 0 ? undefined : valueAt(slot, k);
        const missing = mode === 'insert' ? v === undefined || v === null : v === null;
        if (missing && !hasErrorOn(p, field.apiName)) addError(p, { code: 'MANDATORY_NOT_FOUND', field: field.apiName });
      }
      for (let u = 0; u < this.uniqueSlots.length; u++) {
        const { field, slot } = this.uniqueSlots[u] as FieldSlot;
        const v = valueAt(slot, k);
        const key = v === undefined || v === null ? null : normKey(v);
        uniqueKeys[u] = key;
        // Trusting the indexes, a row to be written is checked by them at commit (a refused batch
        // is redone with these checks); only a skipped row, which the store never sees, is asked
        // here: who held the value before it, this batch or one in flight, else the store (below).
        if (key === null || (trustIndexes && p.errors === null)) continue;
        const owner = (owners[u] as FieldOwners).get(key);
        if (trustIndexes) (skippedOwners ??= new Map()).set(k, { ...skippedOwners?.get(k), [u]: owner });
        else if (owner && owner !== recordId) addError(p, { code: 'DUPLICATE_DATA', field: field.apiName });
      }

      if (p.errors !== null) {
        if (skippedOwners?.has(k) !== true) outcomes[k] = skippedOutcome(p.errors);
        continue;
      }
      let unique: Record<string, string | null> | null = null;
      for (let u = 0; u < this.uniqueSlots.length; u++) {
        const { field, slot } = this.uniqueSlots[u] as FieldSlot;
        const v = valueAt(slot, k);
        if (v === undefined) continue;
        // Keys (normKey), as the store's findKeys gives them: folded once, never again.
        const previous = current?.[field.apiName];
        if (mode === 'update' && previous !== undefined && previous !== null) (owners[u] as FieldOwners).set(previous, null);
        if (v !== null) (owners[u] as FieldOwners).set(uniqueKeys[u] as string, recordId);
        if (!tracksRecords) continue;
        if (unique === null) unique = { ...current };
        unique[field.apiName] = uniqueKeys[u] ?? null;
      }
      const after: UniqueValues = unique ?? current ?? NOTHING;
      // An empty Owner cell gives an inserted record its creator and leaves an updated one's
      // owner as it is: a record always has one.
      if (this.ownerSlot >= 0) {
        const owners = cols[this.ownerSlot] as (CellValue | undefined)[];
        const owner = owners[k];
        if (mode === 'insert' && (owner === null || owner === undefined)) owners[k] = actor;
        else if (owner === null) owners[k] = undefined;
      }
      if (mode === 'insert') {
        const row = inserts.add(recordId, k);
        if (lines !== undefined && p.verbatim) {
          const bytes = recordBytes as BatchRecordBytes;
          lines.starts[row] = bytes.starts[k] as number;
          lines.ends[row] = bytes.ends[k] as number;
          linesSent++;
          inserts.clear(row);
        }
        if (p.matchKey !== null) addedByKey.set(p.matchKey, { id: recordId, keys: after });
        if (tracksRecords) {
          insertedNow.set(recordId, row);
          touched.set(recordId, after);
        }
        outcomes[k] = { status: 'ADDED', recordId, errors: NO_ERRORS };
      } else {
        // A record this batch inserts takes the update into its insert: stores apply a batch's
        // updates before its inserts (so a unique value an update frees is free for an insert).
        const row = insertedNow.get(recordId);
        if (row === undefined) updates.add(recordId, k);
        else {
          for (let c = 0; c < width; c++) {
            const v = valueAt(c, k);
            if (v !== undefined) inserts.set(row, c, v);
          }
        }
        touched.set(recordId, after);
        outcomes[k] = { status: 'UPDATED', recordId, errors: NO_ERRORS };
      }
    }
    if (skippedOwners !== undefined) await this.reportSkippedDuplicates(skippedOwners, prepared, cols, outcomes);
    this.inFlight.push({ batch: this.batchNo++, keys: addedByKey, touched, owners: taken.changes });
    const insertShared: Record<string, CellValue> = { Created_Time: now, Modified_Time: now, Created_By: actor, Modified_By: actor };
    if (this.ownerSlot < 0) insertShared.Owner = actor;
    return {
      outcomes,
      inserts: { columns: this.columns, ...inserts.rows(), shared: insertShared, keptKeys: [], ...(lines && linesSent > 0 ? { lines } : {}) },
      updates: {
        columns: this.columns,
        ...updates.rows(),
        shared: { Modified_Time: now, Modified_By: actor },
        // A row updates the record its find_by key matched: that key is the record's already.
        keptKeys: findBy !== null && findBy !== 'id' ? [findBy] : [],
      },
      newPicklistValues: this.newPicklistValues,
    };
  }

  /**
   * A skipped row's DUPLICATE_DATA errors when the job trusts the unique indexes: a value an
   * earlier row of the job holds (`owners`, found as the row was met), or else a stored record,
   * asked here in one query per field for the batch's skipped rows. Added in field order after
   * the row's other errors, as the row-by-row check gives them.
   */
  private async reportSkippedDuplicates(
    owners: ReadonlyMap<number, Record<number, string | null | undefined>>,
    prepared: readonly PreparedRow[],
    cols: BatchColumns,
    outcomes: RowOutcome[],
  ): Promise<void> {
    const unresolved = this.uniqueSlots.map(({ field, slot }, u) => ({
      field,
      values: [...owners].filter(([, held]) => u in held && held[u] === undefined).map(([k]) => (cols[slot] as (CellValue | undefined)[])[k]),
      known: null,
    }));
    const stored = await this.lookups.uniqueOwners(unresolved.filter((r) => r.values.length > 0));
    for (const [k, held] of owners) {
      const p = prepared[k] as PreparedRow;
      for (let u = 0; u < this.uniqueSlots.length; u++) {
        if (!(u in held)) continue;
        const { field, slot } = this.uniqueSlots[u] as FieldSlot;
        const owner = held[u] !== undefined ? held[u] : stored.get(field.apiName)?.get(normKey((cols[slot] as CellValue[])[k] as CellValue));
        if (owner) addError(p, { code: 'DUPLICATE_DATA', field: field.apiName });
      }
      outcomes[k] = skippedOutcome(p.errors as RowError[]);
    }
  }

  /** Reads row k's cells into the batch's columns; returns what else the row says. */
  /** @param nul the row holds U+0000 somewhere (CsvBatch.nulRows): each cell is asked */
  private prepare(row: readonly string[], rowNumber: number, cols: BatchColumns, k: number, bytes: BatchRecordBytes | undefined, nul: boolean): PreparedRow {
    const hasBytes = bytes !== undefined && (bytes.ends[k] as number) >= 0;
    if (!hasBytes || bytes.checked[k] !== true) return this.prepareCells(row, rowNumber, cols, k, hasBytes, this.cells, nul);
    // The row's other cells passed their checks: they go as the line's bytes.
    const p = this.prepareCells(row, rowNumber, cols, k, true, this.readCells, nul);
    if (p.verbatim || p.refused !== null) return p;
    // A cell read makes the row one written from its values (a picklist spelled otherwise, a blank
    // cell): every cell is needed after all, as strings. Those read already decide as they did.
    const cells = splitOn(bytes.bytes.toString('utf8', bytes.starts[k], bytes.ends[k]), String.fromCharCode(this.plan.delimiter ?? 0x2c));
    return this.prepareCells(cells, rowNumber, cols, k, true, this.cells, nul);
  }

  private prepareCells(
    row: readonly string[],
    rowNumber: number,
    cols: BatchColumns,
    k: number,
    hasBytes: boolean,
    cells: readonly CellPlan[],
    nul: boolean,
  ): PreparedRow {
    const refused: RowError | null =
      rowNumber > this.plan.maxRows ? LIMIT_EXCEEDED : isRagged(row, this.plan.columnCount) ? CANNOT_PROCESS : null;
    const p: PreparedRow = { refs: null, errors: null, matchKey: null, matchValue: null, refused, verbatim: hasBytes && row.length === this.plan.columnCount };
    if (refused !== null) return p;
    for (const c of cells) {
      let cell = c.index === null ? '' : row[c.index] ?? '';
      let blank = isBlank(cell);
      // A blank cell is not its value (null, or a default_value): the row is written from its values.
      if (blank) p.verbatim = false;
      if (blank && c.defaultValue !== null) {
        cell = c.defaultValue;
        blank = isBlank(cell);
      }
      if (c.field === null) {
        // The id column of a resource matched by id.
        if (c.isFindBy && !blank) p.matchKey = p.matchValue = cell.trim();
        continue;
      }
      const field = c.field;
      if (blank) {
        if (!this.plan.ignoreEmpty) (cols[c.slot] as (CellValue | undefined)[])[k] = null;
        continue;
      }
      const value = nul && holdsNul(cell) ? HOLDS_NUL : coerceCell(field, cell, c.context);
      if (value instanceof Refusal) {
        addError(p, { code: 'INVALID_DATA', field: field.apiName });
        continue;
      }
      if (c.findBy !== null) {
        const ref: Reference = { slot: c.slot, field, findBy: c.findBy, key: String(value) };
        if (p.refs === null) p.refs = [ref];
        else p.refs.push(ref);
      } else if (c.picklist) {
        const canonical = this.canonicalPicklist(field, String(value));
        if (p.verbatim && canonical !== cell) p.verbatim = false;
        (cols[c.slot] as (CellValue | undefined)[])[k] = canonical;
      } else {
        if (p.verbatim && value !== cell && !(typeof value === 'number' && isNumberText(value, cell))) p.verbatim = false;
        (cols[c.slot] as (CellValue | undefined)[])[k] = value;
      }
      if (c.isFindBy && value !== null) {
        p.matchKey = normKey(value);
        p.matchValue = String(value);
      }
    }
    return p;
  }

  /** A known value in the picklist's spelling; an unknown one is kept and appended to the picklist. */
  private canonicalPicklist(field: FieldDef, value: string): string {
    const known = this.picklists.get(field.apiName) as Map<string, string>;
    if (field.dataType !== 'multiselectpicklist') return this.canonicalChoice(field, known, value);
    return value.split(';').map((v) => this.canonicalChoice(field, known, v)).join(';');
  }

  private canonicalChoice(field: FieldDef, known: Map<string, string>, value: string): string {
    // Spellings seen before are answered as they are: a file repeats a few values a million times.
    const seen = known.get(value);
    if (seen !== undefined) return seen;
    const folded = value.toLowerCase();
    const hit = known.get(folded);
    if (hit !== undefined) {
      known.set(value, hit);
      return hit;
    }
    known.set(folded, value);
    known.set(value, value);
    const added = this.newPicklistValues.get(field.apiName) ?? [];
    added.push(value);
    this.newPicklistValues.set(field.apiName, added);
    return value;
  }

  private inFlightTouched(id: string): UniqueValues | undefined {
    for (let i = this.inFlight.length - 1; i >= 0; i--) {
      const hit = (this.inFlight[i] as InFlightBatch).touched.get(id);
      if (hit) return hit;
    }
    return undefined;
  }

  private inFlightKey(key: string): RecordKeys | undefined {
    for (let i = this.inFlight.length - 1; i >= 0; i--) {
      const hit = (this.inFlight[i] as InFlightBatch).keys.get(key);
      if (hit) return hit;
    }
    return undefined;
  }

  /**
   * Who holds each unique value: this batch's own decisions first, then those of batches still
   * being written, then the store. `changes` collects this batch's decisions. Each field's maps are
   * found once a batch, not once a row (a row looked a field up in each of them: Map lookups were
   * a twentieth of a PostgreSQL insert's job thread, by perf).
   */
  private ownersView(db: Map<string, Map<string, string | null>>, fields: readonly string[]): OwnersView {
    const changes = new Map<string, WrittenOwners>();
    const byField = fields.map((field) => {
      const own = new WrittenOwners();
      changes.set(field, own);
      const before: OwnerLookup[] = [];
      for (let i = this.inFlight.length - 1; i >= 0; i--) {
        const held = (this.inFlight[i] as InFlightBatch).owners.get(field);
        if (held !== undefined && held.size > 0) before.push(held);
      }
      const stored = db.get(field);
      if (stored !== undefined && stored.size > 0) before.push(stored);
      return new FieldOwners(own, before);
    });
    return { changes, byField };
  }
}

interface OwnersView {
  readonly changes: Map<string, WrittenOwners>;
  /** By position in the fields asked for. */
  readonly byField: readonly FieldOwners[];
}

/** Who holds a unique field's values: this batch's decisions, then `before`'s maps in order. */
class FieldOwners {
  constructor(
    private readonly own: WrittenOwners,
    private readonly before: readonly OwnerLookup[],
  ) {}

  // One lookup per map, not has() then get(): an owner is an id or null (freed), never undefined.
  get(value: string): string | null | undefined {
    const own = this.own.get(value);
    if (own !== undefined) return own;
    for (let i = 0; i < this.before.length; i++) {
      const held = (this.before[i] as OwnerLookup).get(value);
      if (held !== undefined) return held;
    }
    return undefined;
  }

  set(value: string, id: string | null): void {
    this.own.set(value, id);
  }
}

/** Who holds each value of a unique field: a record id, or null for a value freed. */
interface OwnerLookup {
  get(value: string): string | null | undefined;
  readonly size: number;
}

/**
 * The owners a batch's rows set, kept in the order they set them and put in a Map only when asked
 * (the later setting of a value wins, as in a Map set row by row). An insert that trusts the
 * unique indexes asks only for a skipped row: a million-row file without one never hashes its
 * values, where each row's Map.set took ~100 ms of the job thread's ~600 in `process` per million.
 */
class WrittenOwners implements OwnerLookup {
  private readonly values: string[] = [];
  private readonly ids: (string | null)[] = [];
  private readonly map = new Map<string, string | null>();
  private mapped = 0;

  get size(): number {
    return this.values.length;
  }

  set(value: string, id: string | null): void {
    this.values.push(value);
    this.ids.push(id);
  }

  get(value: string): string | null | undefined {
    for (; this.mapped < this.values.length; this.mapped++) this.map.set(this.values[this.mapped] as string, this.ids[this.mapped] as string | null);
    return this.map.get(value);
  }
}

/** Whether `text` is how the number is written (String(n)), digits answered without making that string. */
function isNumberText(n: number, text: string): boolean {
  const len = text.length;
  if (Number.isInteger(n) && n >= 0 && len > 0 && len < 16 && (len === 1 || text.charCodeAt(0) !== 48)) {
    let v = 0;
    for (let i = 0; i < len; i++) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) return String(n) === text;
      v = v * 10 + (c - 48);
    }
    return v === n;
  }
  return String(n) === text;
}

/** A batch's RecordLines, no row written as its line yet. */
function newLines(record: BatchRecordBytes, rows: number, plan: ResourcePlan): RecordLines & { starts: Int32Array; ends: Int32Array } {
  return {
    bytes: record.bytes, starts: new Int32Array(rows).fill(-1), ends: new Int32Array(rows).fill(-1), delimiter: plan.delimiter ?? 0x2c, giveBack: record.giveBack,
  };
}

/** Fewer cells than the header, or more that are not just empty trailing cells. */
function isRagged(row: readonly string[], columns: number): boolean {
  if (row.length < columns) return true;
  for (let i = columns; i < row.length; i++) if ((row[i] as string).trim() !== '') return true;
  return false;
}

function isUnset(v: CellValue | undefined): boolean {
  return v === undefined;
}

function skippedOutcome(errors: RowError[]): RowOutcome {
  return { status: 'SKIPPED', recordId: null, errors: errors.length > 1 ? dedupe(errors) : errors };
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
