import type { CellValue } from '../../domain/coercion.js';
import type { DataType, FieldDef } from '../../domain/metadata.js';
import { CREATION_OF } from '../record-rows.js';

/** System columns every record table has besides its fields. */
export const SYSTEM_COLUMNS = ['Created_Time', 'Modified_Time', 'Created_By', 'Modified_By'] as const;

/**
 * Columns an insert leaves NULL when they hold what another does: a new record's modification is
 * its creation, and its owner its creator (RecordRows.shared, CREATION_OF). Read through
 * `columnSql`, a NULL gives the other column's value; updates write them. A 1M-row insert then
 * sends and stores ~66 bytes less a row: Modified_* took ~8% off PostgreSQL's CPU for its COPY,
 * Owner ~3% more (docs/performance.md). Records of earlier versions hold them all, and read the same.
 */
const DERIVED_COLUMNS = CREATION_OF;

/** A record column as SQL that reads it: a derived column gives its base's value where it is NULL. */
export function columnSql(name: string): string {
  const base = DERIVED_COLUMNS.get(name);
  return base === undefined ? quoteIdent(name) : `coalesce(${quoteIdent(name)}, ${quoteIdent(base)})`;
}

/** Whether an insert's shared value of `name` is left out: its base column is given the same value. */
export function derivedFromShared(shared: Readonly<Record<string, CellValue>>, name: string): boolean {
  const base = DERIVED_COLUMNS.get(name);
  return base !== undefined && shared[base] !== undefined && shared[base] !== null && shared[base] === shared[name];
}

export type ColumnType = 'BIGINT' | 'DOUBLE PRECISION' | 'BOOLEAN' | 'TEXT';
export type FieldShape = Pick<FieldDef, 'apiName' | 'dataType' | 'unique' | 'isNameField'>;

export function quoteIdent(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`unsafe SQL identifier ${name}`);
  return `"${name}"`;
}

/**
 * Unique text fields get a key column holding `foldKey(value)`, as on SQLite: duplicate checks
 * compare those through a unique index, whatever the case or script (É = é), and both backends
 * fold with the same JavaScript function. Name fields get one too, but only in modules some lookup
 * points at (nameKeySql), so no other module pays an index on every insert for it. api_names start
 * with a letter, so `_key_` cannot clash with a field.
 */
export function keyColumn(f: FieldShape): string | null {
  return columnType(f.dataType) === 'TEXT' && f.unique ? keyColumnName(f.apiName) : null;
}

export function keyColumnName(apiName: string): string {
  return `_key_${apiName}`;
}

/** The key column of a name field, added when a lookup first points at its module, indexed. */
export function nameKeySql(table: string, apiName: string): string[] {
  const key = quoteIdent(keyColumnName(apiName));
  return [`ALTER TABLE ${quoteIdent(table)} ADD COLUMN ${key} TEXT COLLATE "C"`, `CREATE INDEX ON ${quoteIdent(table)} (${key})`];
}

export function columnType(t: DataType | undefined): ColumnType {
  switch (t) {
    case 'integer':
    case 'bigint':
      return 'BIGINT';
    case 'double':
    case 'currency':
    case 'percent':
      return 'DOUBLE PRECISION';
    case 'boolean':
      return 'BOOLEAN';
    default:
      return 'TEXT';
  }
}

/**
 * Text compares and sorts byte-wise (COLLATE "C") whatever the database's locale, as SQLite does;
 * and lower() under "C" folds ASCII only, like SQLite's NOCASE in search criteria.
 */
function columnDefs(f: FieldShape): string[] {
  const type = columnType(f.dataType);
  const key = keyColumn(f);
  return [`${quoteIdent(f.apiName)} ${type}${type === 'TEXT' ? ' COLLATE "C"' : ''}`, ...(key ? [`${quoteIdent(key)} TEXT COLLATE "C"`] : [])];
}

export function createRecordTableSql(table: string, fields: readonly FieldShape[]): string[] {
  const cols = ['"id" BIGINT PRIMARY KEY', ...SYSTEM_COLUMNS.map((c) => `${quoteIdent(c)} TEXT COLLATE "C"`), ...fields.flatMap(columnDefs)];
  return [`CREATE TABLE ${quoteIdent(table)} (${cols.join(', ')})`, ...fields.flatMap((f) => indexSql(table, f))];
}

/** New columns on a table that has records: they get NULL; PostgreSQL rewrites nothing. */
export function addColumnSql(table: string, f: FieldShape): string[] {
  return [`ALTER TABLE ${quoteIdent(table)} ${columnDefs(f).map((c) => `ADD COLUMN ${c}`).join(', ')}`, ...indexSql(table, f)];
}

// Index names are left to PostgreSQL: table plus api_name can pass its 63-byte identifier limit.
// Unique values are constraints checked at commit in batch commits (SET CONSTRAINTS ALL DEFERRED):
// one UPDATE applies a batch's rows in no set order, and a row taking a value that a later row of
// the batch gives up would otherwise fail when checked first.
function indexSql(table: string, f: FieldShape): string[] {
  const indexed = quoteIdent(keyColumn(f) ?? f.apiName);
  if (f.unique) return [`ALTER TABLE ${quoteIdent(table)} ADD UNIQUE (${indexed}) DEFERRABLE INITIALLY IMMEDIATE`];
  // Lookup columns are indexed for reverse lookups; owner columns are not (few distinct values; as
  // on SQLite, an index on them would cost every bulk insert more than it saves).
  if (f.dataType === 'lookup') return [`CREATE INDEX ON ${quoteIdent(table)} (${quoteIdent(f.apiName)})`];
  return [];
}

/**
 * SQL that folds a text column as foldKey() does in JavaScript: NFC, then lower case under ICU's
 * root collation, whose case mapping is the Unicode default one JavaScript uses (É → é, final Σ → ς).
 * A server built without ICU folds ASCII only.
 */
export function foldSql(column: string, icu: boolean): string {
  return icu ? `lower(normalize(${column}, NFC) COLLATE "und-x-icu")` : `lower(${column})`;
}

/** ASCII-only lower case: what lower() does under COLLATE "C" and what SQLite's NOCASE folds. */
export function foldCase(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

/** The value bound for a cell; BIGINT travels as its digit string so no precision is lost. */
export function toParam(v: CellValue | undefined): string | number | boolean | null {
  return v === undefined ? null : v;
}

export function fromColumn(f: FieldDef | undefined, v: unknown): CellValue {
  if (v === null || v === undefined) return null;
  // pg returns BIGINT as a string; an integer field reads as a number, as SQLite gives it.
  if (f?.dataType === 'integer') return Number(v);
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  return String(v);
}

const COPY_SPECIAL = /[\\\n\r\t]/;
const COPY_SPECIALS = /[\\\n\r\t]/g;
const escapeCopyChar = (m: string): string => (m === '\\' ? '\\\\' : m === '\n' ? '\\n' : m === '\r' ? '\\r' : '\\t');

/** One field of a COPY text-format row (PostgreSQL docs, COPY "Text Format"). */
export function copyField(v: CellValue | undefined): string {
  if (v === undefined || v === null) return '\\N';
  if (typeof v === 'boolean') return v ? 't' : 'f';
  if (typeof v === 'number') return String(v);
  // Most cells have nothing to escape: a test is cheaper than a replace that finds nothing.
  return COPY_SPECIAL.test(v) ? v.replace(COPY_SPECIALS, escapeCopyChar) : v;
}

const INTEGER_KEY = /^[+-]?\d{1,19}$/;
const NUMBER_KEY = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Lookup keys as the column's type takes them; keys that cannot be such a value match nothing
 * (SQLite's type affinity gives the same answer without an error).
 */
export function keysFor(type: ColumnType, keys: readonly string[]): (string | boolean)[] {
  switch (type) {
    case 'BIGINT':
      return keys.map((k) => k.trim()).filter((k) => INTEGER_KEY.test(k) && BigInt(k) < 2n ** 63n && BigInt(k) >= -(2n ** 63n));
    case 'DOUBLE PRECISION':
      return keys.map((k) => k.trim()).filter((k) => NUMBER_KEY.test(k));
    case 'BOOLEAN':
      return keys.flatMap((k) => (k === '1' ? [true] : k === '0' ? [false] : []));
    default:
      return [...keys];
  }
}

/** A criteria value for a numeric compare, or null (matches nothing) when it is not a number. */
export function numericParam(v: string): string | null {
  const t = v.trim();
  if (NUMBER_KEY.test(t)) return t;
  const n = Number(t);
  // Number('') is 0, as SQLite binds it.
  return Number.isFinite(n) ? String(n) : null;
}
