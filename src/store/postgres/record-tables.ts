import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { CellValue } from '../../domain/coercion.js';
import { foldKey, type FieldDef, type ModuleDef } from '../../domain/metadata.js';
import type { RecordKeys, RecordQuery, RecordRows, StoredRecord } from '../../ports/store.js';
import { givenColumns, givenMask, keyedColumns, keysSelect, rowKeys } from '../record-rows.js';
import type { Queryable } from './pg-pool.js';
import { freshPieces, type PieceSource } from './copy-pieces.js';
import { copyDelimiter, copyDelimiterOption, copyLines } from './copy-text.js';
import { criteriaSql } from './record-criteria.js';
import {
  columnSql, columnType, derivedFromShared, foldSql, fromColumn, keyColumn, keyColumnName, keysFor, quoteIdent, SYSTEM_COLUMNS, type ColumnType,
} from './record-columns.js';

type Row = Record<string, unknown>;
const ID_KEY = /^\d{1,19}$/;

/** A column in a select list, under its own name. */
function selected(name: string): string {
  const sql = columnSql(name);
  return sql === quoteIdent(name) ? sql : `${sql} AS ${quoteIdent(name)}`;
}

/** A value as an SQL literal of the column's type. */
function literal(v: CellValue, type: ColumnType): string {
  if (v === null) return 'NULL';
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`no SQL literal for ${v}`);
    return `${v}::${type}`;
  }
  return `${pg.escapeLiteral(v)}::${type}`;
}

/** Runs a `COPY … FROM STDIN` with its data on the client's transaction. */
async function copyIn(client: pg.PoolClient, sql: string, data: readonly Buffer[]): Promise<void> {
  await pipeline(Readable.from(data), client.query(copyFrom(sql)));
}

const statementNames = new Map<string, string>();
/** A name for a prepared statement of `text`: the same on every connection, another for each text. */
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `rec-find-${createHash('sha1').update(text).digest('hex').slice(0, 24)}`;
    statementNames.set(text, name);
  }
  return name;
}

/** A batch's updates as statements (PgRecordTable.updatesOf), in the order they run, and the data of their COPY. */
export interface RecordUpdates {
  /** Makes the temporary table the rows are copied into, unless the connection has it. */
  readonly create: string;
  readonly copy: string;
  /** Writes the copied rows into the records, an UPDATE per set of given columns. */
  readonly apply: readonly string[];
  readonly data: readonly Buffer[];
}

/** Reads and writes one module's records in its typed table `rec_<module_id>`. */
export class PgRecordTable {
  /** The table's name, quoted. */
  readonly table: string;
  private readonly columns: readonly string[];
  /** The select list of a whole record: its id and columns, derived ones read through columnSql. */
  private readonly everyColumn: string;
  private readonly fieldsByName: ReadonlyMap<string, FieldDef>;
  /** Field → its key column (unique fields of text, and name fields that have one; see keyColumn). */
  private readonly keyOf: ReadonlyMap<string, string>;

  /**
   * @param existing the table's columns now, which tell whether the name field has its key yet
   * @param icu whether the server has the ICU root collation (see foldSql)
   */
  constructor(tableName: string, module: ModuleDef, existing: ReadonlySet<string>, private readonly icu: boolean) {
    this.table = quoteIdent(tableName);
    this.columns = [...SYSTEM_COLUMNS, ...module.fields.map((f) => f.apiName)];
    this.everyColumn = ['id', ...this.columns].map(selected).join(', ');
    this.fieldsByName = new Map(module.fields.map((f) => [f.apiName, f]));
    this.keyOf = new Map(module.fields.flatMap((f) => {
      const key = keyColumn(f) ?? (f.isNameField && existing.has(keyColumnName(f.apiName)) ? keyColumnName(f.apiName) : null);
      return key ? [[f.apiName, key] as const] : [];
    }));
  }

  private typeOf(column: string): ColumnType {
    return column === 'id' ? 'BIGINT' : columnType(this.fieldsByName.get(column)?.dataType);
  }

  /**
   * COPY FROM STDIN, measured against multi-row INSERT … VALUES and INSERT … SELECT unnest() for
   * 2,000-row batches (docs/architecture.md "Records"): the fastest of the three. Runs on the
   * batch's transaction, so a failing row rolls back the whole batch with its counters.
   */
  async insert(client: pg.PoolClient, rows: RecordRows): Promise<void> {
    const copy = this.copyOf(rows);
    if (copy) await copyIn(client, copy.sql, copy.data);
  }

  /** The COPY statement that inserts `rows` and its data (copy-text.ts, in buffers of `pieces`); null for no rows. */
  copyOf(rows: RecordRows, pieces: PieceSource = freshPieces): { readonly sql: string; readonly data: readonly Buffer[] } | null {
    if (rows.ids.length === 0) return null;
    const keyed = keyedColumns(rows.columns, this.keyOf, []);
    const sharedNames = Object.keys(rows.shared).filter((name) => !derivedFromShared(rows.shared, name));
    const cols = ['id', ...sharedNames, ...rows.columns, ...keyed.map((c) => this.keyOf.get(rows.columns[c] as string) as string)];
    return {
      sql: `COPY ${this.table} (${cols.map(quoteIdent).join(', ')}) FROM STDIN${copyDelimiterOption(copyDelimiter(rows))}`,
      data: copyLines(rows, sharedNames.map((k) => rows.shared[k]), keyed, pieces),
    };
  }

  /**
   * A batch's updates as statements, and the data of their COPY: the rows are copied (copy-text.ts)
   * into a temporary table of the columns they give, and an UPDATE … FROM it per set of given
   * columns writes them into the records, in order: a record updated again in the batch starts a
   * new round, so the last write wins. Sent in one trip with the rest of the batch (job-queue.ts),
   * or a round trip each (`update`). Values as COPY text cost a fraction of arrays as parameters,
   * which pg builds as escaped strings and PostgreSQL parses again. The data is in buffers of
   * `pieces`. null for no rows.
   */
  updatesOf(rows: RecordRows, pieces: PieceSource = freshPieces): RecordUpdates | null {
    if (rows.ids.length === 0) return null;
    const keyed = keyedColumns(rows.columns, this.keyOf, rows.keptKeys);
    /** The columns each group of rows gives; a row's group is its set of columns in its round. */
    const groups: number[][] = [];
    const byMask = new Map<string, number>();
    const group: number[] = [];
    let seen = new Set<string>();
    for (let r = 0; r < rows.ids.length; r++) {
      const id = rows.ids[r] as string;
      if (seen.has(id)) {
        byMask.clear();
        seen = new Set();
      }
      seen.add(id);
      const mask = givenMask(rows, r);
      let no = byMask.get(mask);
      if (no === undefined) {
        no = groups.length;
        byMask.set(mask, no);
        groups.push(givenColumns(mask, rows.columns.length));
      }
      group.push(no);
    }
    const names = ['_grp', ...rows.columns, ...keyed.map((c) => this.keyOf.get(rows.columns[c] as string) as string)];
    const types = ['INTEGER', ...rows.columns.map((c) => this.typeOf(c)), ...keyed.map(() => 'TEXT')];
    const defs = names.map((n, i) => `${quoteIdent(n)} ${types[i] as string}`).join(', ');
    // One temporary table per set of columns and types, made once per connection, emptied at commit.
    const temp = quoteIdent(`bw_updates_${createHash('sha1').update(defs).digest('hex').slice(0, 16)}`);
    const shared = Object.entries(rows.shared).map(([name, v]) => `${quoteIdent(name)} = ${literal(v, this.typeOf(name))}`);
    const apply = groups.map((given, no) => {
      const sets = [
        ...given.map((c) => quoteIdent(rows.columns[c] as string)),
        ...keyed.filter((c) => given.includes(c)).map((c) => quoteIdent(this.keyOf.get(rows.columns[c] as string) as string)),
      ].map((col) => `${col} = u.${col}`);
      return `UPDATE ${this.table} AS t SET ${[...sets, ...shared].join(', ')} FROM ${temp} AS u WHERE u."_grp" = ${no} AND t."id" = u."id"`;
    });
    // Updates never come as lines (RecordRows.lines: inserts only); none are passed on, so that
    // the data stays tab-separated as this COPY reads it.
    const withGroups: RecordRows = { columns: ['_grp', ...rows.columns], ids: rows.ids, values: [group, ...rows.values], shared: {}, keptKeys: rows.keptKeys };
    return {
      create: `CREATE TEMP TABLE IF NOT EXISTS ${temp} ("id" BIGINT, ${defs}) ON COMMIT DELETE ROWS`,
      copy: `COPY ${temp} (${['id', ...names].map(quoteIdent).join(', ')}) FROM STDIN`,
      apply,
      data: copyLines(withGroups, [], keyed.map((c) => c + 1), pieces),
    };
  }

  /** A batch's updates (updatesOf) on the batch's transaction, a round trip per statement. */
  async update(client: pg.PoolClient, rows: RecordRows): Promise<void> {
    const updates = this.updatesOf(rows);
    if (!updates) return;
    await client.query(updates.create);
    await copyIn(client, updates.copy, updates.data);
    for (const sql of updates.apply) await client.query(sql);
  }

  async find(db: Queryable, field: string, keys: readonly string[], columns: readonly string[]): Promise<StoredRecord[]> {
    const wanted = ['id', ...columns.filter((c) => c !== 'id')];
    return (await this.select(db, field, keys, wanted.map(selected).join(', '))).map((r) => this.toRecord(r));
  }

  /** The folded keys of `keyFields`, from their key columns where they have one (an index-only read). */
  async findKeys(db: Queryable, field: string, keys: readonly string[], keyFields: readonly string[]): Promise<RecordKeys[]> {
    const decode = (f: string, v: unknown): CellValue => fromColumn(this.fieldsByName.get(f), v);
    const rows = await this.select(db, field, keys, keysSelect(keyFields, this.keyOf, quoteIdent));
    return rows.map((row) => rowKeys(row, keyFields, this.keyOf, decode));
  }

  /** Rows whose `field` is one of `keys` (ignoring case for unique and name fields). */
  private async select(db: Queryable, field: string, keys: readonly string[], select: string): Promise<Row[]> {
    const type = this.typeOf(field);
    const keyCol = this.keyOf.get(field);
    let where: string;
    let bind: unknown[];
    if (field === 'id') {
      where = '"id" = ANY($1::bigint[])';
      bind = keys.filter((k) => ID_KEY.test(k) && BigInt(k) < 2n ** 63n);
    } else if (keyCol) {
      // The key column's index: a find_by or duplicate check is an index lookup, never a scan.
      where = `${quoteIdent(keyCol)} = ANY($1::text[])`;
      bind = keys.map((k) => foldKey(k));
    } else if (this.fieldsByName.get(field)?.isNameField && type === 'TEXT') {
      // A name field without a key column (no lookup points at this module) still matches ignoring
      // case, as on SQLite: correct, though a scan.
      where = `${foldSql(quoteIdent(field), this.icu)} = ANY($1::text[])`;
      bind = keys.map((k) => foldKey(k));
    } else {
      where = `${columnSql(field)} = ANY($1::${type.toLowerCase()}[])`;
      bind = keysFor(type, keys);
    }
    if (bind.length === 0) return [];
    const text = `SELECT ${select} FROM ${this.table} WHERE ${where}`;
    // Prepared once per connection: planning a batch's lookup of 2,000 keys took ~2 ms of the
    // server's ~10–12 (its selectivity is estimated key by key), on every batch of an upsert.
    const { rows } = await db.query<Row>({ name: statementName(text), text, values: [bind] });
    return rows;
  }

  async get(db: Queryable, id: string): Promise<StoredRecord | null> {
    if (!ID_KEY.test(id) || BigInt(id) >= 2n ** 63n) return null;
    const { rows } = await db.query<Row>(`SELECT ${this.everyColumn} FROM ${this.table} WHERE "id" = $1`, [id]);
    return rows[0] ? this.toRecord(rows[0]) : null;
  }

  async count(db: Queryable): Promise<number> {
    const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${this.table}`);
    return Number(rows[0]?.n ?? 0);
  }

  async list(db: Queryable, q: RecordQuery): Promise<StoredRecord[]> {
    const sortBy = q.sortBy === 'id' || this.columns.includes(q.sortBy) ? q.sortBy : 'id';
    // SQLite puts NULLs first ascending and last descending; do the same.
    const dir = q.sortOrder === 'desc' ? 'DESC NULLS LAST' : 'ASC NULLS FIRST';
    const params: unknown[] = [];
    const where = q.filter ? `WHERE ${criteriaSql(q.filter, params, (c) => this.typeOf(c), (c) => this.keyOf.get(c), columnSql)}` : '';
    // One more than a page, so the caller knows whether more exist (RecordQuery.perPage).
    params.push(q.perPage + 1, (q.page - 1) * q.perPage);
    const { rows } = await db.query<Row>(
      `SELECT ${this.everyColumn} FROM ${this.table} ${where} ORDER BY ${columnSql(sortBy)} ${dir}, "id" ${q.sortOrder === 'desc' ? 'DESC' : 'ASC'}
       LIMIT $${params.length - 1} OFFSET $${params.length}`,
      params,
    );
    return rows.map((r) => this.toRecord(r));
  }

  private toRecord(row: Row): StoredRecord {
    const values: Record<string, CellValue> = {};
    for (const [k, v] of Object.entries(row)) if (k !== 'id' && !k.startsWith('_key_')) values[k] = fromColumn(this.fieldsByName.get(k), v);
    return { id: String(row.id), values };
  }
}
