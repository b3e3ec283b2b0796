import type pg from 'pg';
import { foldKey, type DataType, type FieldDef, type ModuleDef } from '../../domain/metadata.js';
import type { SchemaPlan } from '../../domain/schema.js';
import type { FieldSpec, ModuleSpec } from '../../domain/standard-modules.js';
import type { PgIdAllocator } from './id-allocator.js';
import { withTransaction, type Queryable } from './pg-pool.js';
import { addColumnSql, createRecordTableSql, keyColumnName, nameKeySql, quoteIdent } from './record-columns.js';
import { PgRecordTable } from './record-tables.js';

type Row = Record<string, unknown>;
const str = (v: unknown): string => String(v);

/**
 * Modules, fields and their record tables. Definitions are cached per process; every change bumps
 * `meta.schema_version` in its transaction, and a cache older than that version is dropped, so a
 * field added by another process (or by `bulkwright field add`) is seen at the next use.
 */
export class PgModuleCatalog {
  private readonly modulesCache = new Map<string, ModuleDef[]>();
  private readonly tables = new Map<string, PgRecordTable>();
  private cachedVersion: string | null = null;
  /** Whether the server has ICU's root collation; asked once. */
  private icu: boolean | null = null;

  constructor(
    private readonly pool: pg.Pool,
    private readonly ids: PgIdAllocator,
  ) {}

  private async refresh(): Promise<void> {
    const { rows } = await this.pool.query<{ value: string }>("SELECT value FROM meta WHERE key = 'schema_version'");
    const version = rows[0]?.value ?? '0';
    if (version !== this.cachedVersion) {
      this.modulesCache.clear();
      this.tables.clear();
      this.cachedVersion = version;
    }
  }

  async bumpVersion(client: pg.PoolClient): Promise<void> {
    await client.query(
      `INSERT INTO meta (key, value) VALUES ('schema_version', '1')
       ON CONFLICT (key) DO UPDATE SET value = (meta.value::bigint + 1)::text`,
    );
  }

  async listModules(orgId: string): Promise<ModuleDef[]> {
    await this.refresh();
    const version = this.cachedVersion;
    const cached = this.modulesCache.get(orgId);
    if (cached) return cached;
    const { rows: modules } = await this.pool.query<Row>('SELECT * FROM modules WHERE org_id = $1 ORDER BY seq', [orgId]);
    const { rows: fields } = await this.pool.query<Row>(
      'SELECT f.* FROM fields f JOIN modules m ON m.id = f.module_id WHERE m.org_id = $1 ORDER BY f.module_id, f.position',
      [orgId],
    );
    const defs = modules.map((m) => toModule(m, fields.filter((f) => f.module_id === m.id)));
    // Kept only if no refresh has moved the version on while this call read (tableOfVersion).
    if (this.cachedVersion === version) this.modulesCache.set(orgId, defs);
    return defs;
  }

  async createModule(client: pg.PoolClient, orgId: string, spec: ModuleSpec, custom: boolean): Promise<void> {
    const [moduleId] = (await this.ids.allocate(client, 1)) as [string];
    const table = `rec_${moduleId}`;
    await client.query(
      'INSERT INTO modules (id, org_id, api_name, singular_label, plural_label, custom, table_name) VALUES ($1, $2, $3, $4, $5, $6, $7)',
      [moduleId, orgId, spec.apiName, spec.singularLabel, spec.pluralLabel, custom, table],
    );
    for (const [i, f] of spec.fields.entries()) await this.insertField(client, moduleId, f, i);
    const shapes = spec.fields.map((f) => ({ apiName: f.apiName, dataType: f.dataType, unique: f.unique ?? false, isNameField: f.isNameField ?? false }));
    for (const sql of createRecordTableSql(table, shapes)) {
      await client.query(sql);
    }
  }

  async applySchema(orgId: string, plan: SchemaPlan): Promise<void> {
    await withTransaction(this.pool, async (client) => {
      for (const spec of plan.newModules) await this.createModule(client, orgId, spec, true);
      for (const { moduleApiName, field } of plan.newFields) {
        // FOR UPDATE: two processes adding fields to one module take positions one after the other.
        const { rows } = await client.query<Row>(
          'SELECT id, table_name FROM modules WHERE org_id = $1 AND lower(api_name) = lower($2) FOR UPDATE',
          [orgId, moduleApiName],
        );
        const m = rows[0];
        if (!m) throw new Error(`no module ${moduleApiName}`);
        const pos = await client.query<{ p: number }>('SELECT coalesce(max(position), -1) + 1 AS p FROM fields WHERE module_id = $1', [m.id]);
        await this.insertField(client, str(m.id), field, Number(pos.rows[0]?.p ?? 0));
        const shape = { apiName: field.apiName, dataType: field.dataType, unique: field.unique ?? false, isNameField: field.isNameField ?? false };
        for (const sql of addColumnSql(str(m.table_name), shape)) {
          await client.query(sql);
        }
      }
      await this.ensureNameKeys(client, orgId);
      await this.bumpVersion(client);
    });
  }

  /**
   * Gives the name field of every module a lookup points at its key column, filled for the records
   * it already has (as SqliteStore does), so lookups by name ignore case in any script.
   */
  async ensureNameKeys(client: pg.PoolClient, orgId: string): Promise<void> {
    const { rows: targets } = await client.query<{ id: string; table_name: string; name: string }>(
      `SELECT m.id, m.table_name, f.api_name AS name FROM modules m JOIN fields f ON f.module_id = m.id
       WHERE m.org_id = $1 AND f.is_name AND f.data_type IN ('text', 'email', 'phone', 'website', 'picklist')
         AND lower(m.api_name) IN (SELECT lower(l.lookup_module) FROM fields l JOIN modules lm ON lm.id = l.module_id
                                   WHERE lm.org_id = $1 AND l.lookup_module IS NOT NULL)`,
      [orgId],
    );
    for (const t of targets) {
      const key = keyColumnName(t.name);
      const has = await client.query('SELECT 1 FROM pg_attribute WHERE attrelid = $1::regclass AND attname = $2 AND NOT attisdropped', [
        quoteIdent(t.table_name), key,
      ]);
      if (has.rowCount !== 0) continue;
      for (const sql of nameKeySql(t.table_name, t.name)) await client.query(sql);
      const { rows } = await client.query<{ id: string; v: string }>(
        `SELECT id, ${quoteIdent(t.name)} AS v FROM ${quoteIdent(t.table_name)} WHERE ${quoteIdent(t.name)} IS NOT NULL`,
      );
      if (rows.length > 0) {
        await client.query(
          `UPDATE ${quoteIdent(t.table_name)} AS r SET ${quoteIdent(key)} = u.k FROM unnest($1::bigint[], $2::text[]) AS u(id, k) WHERE r."id" = u.id`,
          [rows.map((r) => r.id), rows.map((r) => foldKey(r.v))],
        );
      }
      this.tables.delete(t.id);
    }
  }

  async addPicklistValues(moduleId: string, fieldApiName: string, values: readonly string[]): Promise<void> {
    await withTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ id: string; picklist: string[] }>(
        'SELECT id, picklist FROM fields WHERE module_id = $1 AND api_name = $2 FOR UPDATE',
        [moduleId, fieldApiName],
      );
      const row = rows[0];
      if (!row) return;
      const added = values.filter((v) => !row.picklist.includes(v));
      if (added.length === 0) return;
      await client.query('UPDATE fields SET picklist = $1::jsonb WHERE id = $2', [JSON.stringify([...row.picklist, ...added]), row.id]);
      await this.bumpVersion(client);
    });
  }

  private async insertField(client: pg.PoolClient, moduleId: string, f: FieldSpec, position: number): Promise<void> {
    const [fieldId] = (await this.ids.allocate(client, 1)) as [string];
    await client.query(
      `INSERT INTO fields (id, module_id, api_name, label, data_type, length, mandatory, is_unique, read_only, lookup_module,
        picklist, is_name, position) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12, $13)`,
      [fieldId, moduleId, f.apiName, f.label ?? f.apiName.replace(/_/g, ' '), f.dataType, f.length ?? null, f.mandatory ?? false,
        f.unique ?? false, f.readOnly ?? false, f.lookupModule ?? null, JSON.stringify(f.picklistValues ?? []), f.isNameField ?? false, position],
    );
  }

  /**
   * The module's table as cached, without asking the server whether the schema moved (unless
   * `fresh`), and the schema version it is of: for a statement that checks that version itself,
   * in its transaction and under the table's lock (job-queue.ts insertBatchText).
   */
  async recordTableOfVersion(moduleId: string, fresh: boolean): Promise<{ table: PgRecordTable; version: string }> {
    const cached = fresh || this.cachedVersion === null ? undefined : this.tables.get(moduleId);
    if (cached) return { table: cached, version: this.cachedVersion ?? '0' };
    return this.tableOfVersion(moduleId, this.pool);
  }

  async recordTable(moduleId: string, db: Queryable = this.pool): Promise<PgRecordTable> {
    return (await this.tableOfVersion(moduleId, db)).table;
  }

  /**
   * The table and the schema version read before its columns were: the version is never newer
   * than the columns, so a batch that checks it is at worst sent again. Calls overlap (the commit
   * thread builds a batch while another is sent), and one call's refresh may move the version
   * while another reads: what a call read is cached only if the version has not moved since.
   */
  private async tableOfVersion(moduleId: string, db: Queryable): Promise<{ table: PgRecordTable; version: string }> {
    await this.refresh();
    const version = this.cachedVersion ?? '0';
    let t = this.tables.get(moduleId);
    if (!t) {
      const { rows } = await db.query<Row>('SELECT * FROM modules WHERE id = $1', [moduleId]);
      const m = rows[0];
      if (!m) throw new Error(`unknown module ${moduleId}`);
      const cached = this.modulesCache.get(str(m.org_id))?.find((x) => x.id === moduleId);
      const fields = cached ? [] : (await db.query<Row>('SELECT * FROM fields WHERE module_id = $1 ORDER BY position', [moduleId])).rows;
      const columns = await db.query<{ name: string }>(
        'SELECT attname AS name FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped',
        [quoteIdent(str(m.table_name))],
      );
      this.icu ??= (await db.query("SELECT 1 FROM pg_collation WHERE collname = 'und-x-icu'")).rowCount !== 0;
      t = new PgRecordTable(str(m.table_name), cached ?? toModule(m, fields), new Set(columns.rows.map((c) => c.name)), this.icu);
      if (this.cachedVersion === version) this.tables.set(moduleId, t);
    }
    return { table: t, version };
  }
}

function toModule(m: Row, fields: readonly Row[]): ModuleDef {
  return {
    id: str(m.id),
    apiName: str(m.api_name),
    singularLabel: str(m.singular_label),
    pluralLabel: str(m.plural_label),
    custom: m.custom === true,
    fields: fields.map(toField),
  };
}

function toField(r: Row): FieldDef {
  return {
    id: str(r.id), apiName: str(r.api_name), label: str(r.label), dataType: str(r.data_type) as DataType,
    length: r.length === null ? null : Number(r.length), mandatory: r.mandatory === true, unique: r.is_unique === true,
    readOnly: r.read_only === true, lookupModule: r.lookup_module === null ? null : str(r.lookup_module),
    picklistValues: r.picklist as string[], isNameField: r.is_name === true,
  };
}
