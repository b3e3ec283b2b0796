import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { CellValue } from '../../domain/coercion.js';
import { foldKey, type FieldDef, type ModuleDef } from '../../domain/metadata.js';
import type { RecordInsert, RecordQuery, RecordUpdate, StoredRecord } from '../../ports/store.js';
import type { Queryable } from './pg-pool.js';
import { criteriaSql } from './record-criteria.js';
import {
  columnType, copyField, foldSql, fromColumn, keyColumn, keyColumnName, keysFor, keyValue, quoteIdent, SYSTEM_COLUMNS, type ColumnType,
} from './record-columns.js';

type Row = Record<string, unknown>;
const ID_KEY = /^\d{1,19}$/;

/** Reads and writes one module's records in its typed table `rec_<module_id>`. */
export class PgRecordTable {
  private readonly table: string;
  private readonly columns: readonly string[];
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
  async insert(client: pg.PoolClient, rows: readonly RecordInsert[]): Promise<void> {
    if (rows.length === 0) return;
    const keyed = [...this.keyOf];
    const cols = ['id', ...this.columns, ...keyed.map(([, key]) => key)];
    const n = this.columns.length;
    const lines: string[] = new Array(rows.length);
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r] as RecordInsert;
      const cells: string[] = new Array(cols.length);
      cells[0] = row.id;
      for (let i = 0; i < n; i++) cells[i + 1] = copyField(row.values[this.columns[i] as string]);
      for (let k = 0; k < keyed.length; k++) cells[n + k + 1] = copyField(keyValue(row.values[(keyed[k] as readonly [string, string])[0]]));
      lines[r] = cells.join('\t');
    }
    const copy = client.query(copyFrom(`COPY ${this.table} (${cols.map(quoteIdent).join(', ')}) FROM STDIN`));
    await pipeline(Readable.from([Buffer.from(`${lines.join('\n')}\n`, 'utf8')]), copy);
  }

  /**
   * One UPDATE … FROM unnest() per set of changed columns instead of one statement per row. Updates
   * of a record already updated earlier in the batch start a new round, so the last one wins, as
   * when the rows are applied one by one.
   */
  async update(client: Queryable, rows: readonly RecordUpdate[]): Promise<void> {
    let round = new Map<string, RecordUpdate[]>();
    let ids = new Set<string>();
    const flush = async (): Promise<void> => {
      for (const group of round.values()) await this.updateGroup(client, group);
      round = new Map();
      ids = new Set();
    };
    for (const given of rows) {
      const values: Record<string, CellValue> = { ...given.values };
      for (const [field, v] of Object.entries(given.values)) {
        const key = this.keyOf.get(field);
        if (key) values[key] = keyValue(v);
      }
      const row = { id: given.id, values };
      const cols = Object.keys(values);
      if (cols.length === 0) continue;
      if (ids.has(row.id)) await flush();
      ids.add(row.id);
      const key = cols.join('\u0000');
      const group = round.get(key);
      if (group) group.push(row);
      else round.set(key, [row]);
    }
    await flush();
  }

  private async updateGroup(client: Queryable, rows: readonly RecordUpdate[]): Promise<void> {
    const cols = Object.keys((rows[0] as RecordUpdate).values);
    const arrays: unknown[] = [rows.map((r) => r.id), ...cols.map((c) => rows.map((r) => r.values[c] ?? null))];
    const casts = ['$1::bigint[]', ...cols.map((c, i) => `$${i + 2}::${this.typeOf(c).toLowerCase()}[]`)];
    const names = ['id', ...cols.map((_, i) => `c${i}`)];
    await client.query(
      `UPDATE ${this.table} AS t SET ${cols.map((c, i) => `${quoteIdent(c)} = v.c${i}`).join(', ')}
       FROM unnest(${casts.join(', ')}) AS v(${names.join(', ')}) WHERE t."id" = v.id`,
      arrays,
    );
  }

  async find(db: Queryable, field: string, keys: readonly string[], columns: readonly string[]): Promise<StoredRecord[]> {
    const wanted = ['id', ...columns.filter((c) => c !== 'id')];
    const select = wanted.map(quoteIdent).join(', ');
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
      where = `${quoteIdent(field)} = ANY($1::${type.toLowerCase()}[])`;
      bind = keysFor(type, keys);
    }
    if (bind.length === 0) return [];
    const { rows } = await db.query<Row>(`SELECT ${select} FROM ${this.table} WHERE ${where}`, [bind]);
    return rows.map((r) => this.toRecord(r));
  }

  async get(db: Queryable, id: string): Promise<StoredRecord | null> {
    if (!ID_KEY.test(id) || BigInt(id) >= 2n ** 63n) return null;
    const { rows } = await db.query<Row>(`SELECT * FROM ${this.table} WHERE "id" = $1`, [id]);
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
    const where = q.filter ? `WHERE ${criteriaSql(q.filter, params, (c) => this.typeOf(c), (c) => this.keyOf.get(c))}` : '';
    // One more than a page, so the caller knows whether more exist (RecordQuery.perPage).
    params.push(q.perPage + 1, (q.page - 1) * q.perPage);
    const { rows } = await db.query<Row>(
      `SELECT * FROM ${this.table} ${where} ORDER BY ${quoteIdent(sortBy)} ${dir}, "id" ${q.sortOrder === 'desc' ? 'DESC' : 'ASC'}
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
