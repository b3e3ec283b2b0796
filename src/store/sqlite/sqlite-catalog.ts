import { foldKey, type DataType, type FieldDef, type ModuleDef } from '../../domain/metadata.js';
import type { SchemaPlan } from '../../domain/schema.js';
import type { FieldSpec, ModuleSpec } from '../../domain/standard-modules.js';
import { addColumnSql, createRecordTableSql, nameKeySql, quoteIdent, RecordTable } from './record-tables.js';
import type { SqliteConnection } from './sqlite-connection.js';

type Row = Record<string, unknown>;
const str = (v: unknown): string => String(v);

/**
 * Modules and fields of the SQLite store, their record tables and the caches of both, dropped
 * when any connection changes metadata (`meta.metadata_version`).
 */
export class SqliteCatalog {
  private readonly modulesCache = new Map<string, ModuleDef[]>();
  private readonly tables = new Map<string, RecordTable>();
  private readonly tableNames = new Map<string, string>();
  private metadataVersion = '';

  constructor(
    private readonly c: SqliteConnection,
    private readonly allocateIds: (count: number) => string[],
  ) {}

  /** The org's modules are read again at their next use (after this connection created them). */
  forgetModules(orgId: string): void {
    this.modulesCache.delete(orgId);
  }

  /** Drops cached modules and record tables when any connection changed metadata since. */
  checkMetadata(): void {
    const v = str((this.c.sql("SELECT value FROM meta WHERE key = 'metadata_version'").get() as Row).value);
    if (v !== this.metadataVersion) {
      this.modulesCache.clear();
      this.tables.clear();
      this.metadataVersion = v;
    }
  }

  bumpMetadata(): void {
    this.c.sql("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'metadata_version'").run();
  }

  async applySchema(orgId: string, plan: SchemaPlan): Promise<void> {
    this.c.db.transaction(() => {
      this.bumpMetadata();
      for (const spec of plan.newModules) this.createModuleSync(orgId, spec, true);
      for (const { moduleApiName, field } of plan.newFields) {
        const m = this.c.sql('SELECT id, table_name FROM modules WHERE org_id = ? AND api_name = ?').get(orgId, moduleApiName) as Row;
        const position = (this.c.sql('SELECT coalesce(max(position), -1) + 1 AS p FROM fields WHERE module_id = ?').get(m.id) as Row).p;
        this.insertField(str(m.id), field, Number(position));
        for (const sql of addColumnSql(str(m.table_name), { apiName: field.apiName, dataType: field.dataType, unique: field.unique ?? false, isNameField: field.isNameField ?? false })) {
          this.c.db.exec(sql);
        }
        this.tables.delete(str(m.id));
      }
      this.ensureNameKeysSync(orgId);
    }).immediate();
    this.modulesCache.delete(orgId);
  }

  async addPicklistValues(moduleId: string, fieldApiName: string, values: readonly string[]): Promise<void> {
    this.c.db.transaction(() => {
      const row = this.c.sql('SELECT id, picklist FROM fields WHERE module_id = ? AND api_name = ?').get(moduleId, fieldApiName) as Row | undefined;
      if (!row) return;
      const current = JSON.parse(str(row.picklist)) as string[];
      const added = values.filter((v) => !current.includes(v));
      if (added.length > 0) {
        this.c.sql('UPDATE fields SET picklist = ? WHERE id = ?').run(JSON.stringify([...current, ...added]), row.id);
        this.bumpMetadata();
      }
    }).immediate();
    const org = this.c.sql('SELECT org_id FROM modules WHERE id = ?').get(moduleId) as Row | undefined;
    if (org) this.modulesCache.delete(str(org.org_id));
  }

  /** Gives the name field of every module a lookup points at its key column, filled for existing records. */
  ensureNameKeysSync(orgId: string): void {
    const modules = this.c.sql('SELECT id, api_name, table_name FROM modules WHERE org_id = ?').all(orgId) as Row[];
    const targets = new Set(
      (this.c.sql('SELECT DISTINCT lower(f.lookup_module) AS t FROM fields f JOIN modules m ON m.id = f.module_id WHERE m.org_id = ? AND f.lookup_module IS NOT NULL')
        .all(orgId) as Row[]).map((r) => str(r.t)),
    );
    for (const m of modules.filter((x) => targets.has(str(x.api_name).toLowerCase()))) {
      const name = this.c.sql("SELECT api_name, data_type FROM fields WHERE module_id = ? AND is_name = 1 AND data_type IN ('text', 'email', 'phone', 'website', 'picklist')")
        .get(m.id) as Row | undefined;
      if (!name) continue;
      const table = str(m.table_name);
      const key = `_key_${str(name.api_name)}`;
      const columns = (this.c.db.prepare(`PRAGMA table_info(${quoteIdent(table)})`).all() as Row[]).map((c) => str(c.name));
      if (columns.includes(key)) continue;
      for (const sql of nameKeySql(table, { apiName: str(name.api_name), dataType: 'text', unique: false, isNameField: true })) this.c.db.exec(sql);
      const fill = this.c.db.prepare(`UPDATE ${quoteIdent(table)} SET ${quoteIdent(key)} = ? WHERE id = ?`);
      for (const r of this.c.db.prepare(`SELECT id, ${quoteIdent(str(name.api_name))} AS v FROM ${quoteIdent(table)}`).safeIntegers(true).all() as Row[]) {
        if (r.v !== null) fill.run(foldKey(String(r.v)), r.id);
      }
      this.tables.delete(str(m.id));
    }
  }

  createModuleSync(orgId: string, spec: ModuleSpec, custom: boolean): void {
    const [moduleId] = this.allocateIds(1) as [string];
    const table = `rec_${moduleId}`;
    this.c
      .sql('INSERT INTO modules (id, org_id, api_name, singular_label, plural_label, custom, table_name) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(moduleId, orgId, spec.apiName, spec.singularLabel, spec.pluralLabel, custom ? 1 : 0, table);
    spec.fields.forEach((f, i) => this.insertField(moduleId, f, i));
    for (const sql of createRecordTableSql(table, spec.fields.map((f) => ({ apiName: f.apiName, dataType: f.dataType, unique: f.unique ?? false, isNameField: f.isNameField ?? false })))) {
      this.c.db.exec(sql);
    }
  }

  private insertField(moduleId: string, f: FieldSpec, position: number): void {
    const [fieldId] = this.allocateIds(1) as [string];
    this.c
      .sql(
        `INSERT INTO fields (id, module_id, api_name, label, data_type, length, mandatory, is_unique, read_only, lookup_module,
          picklist, is_name, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(fieldId, moduleId, f.apiName, f.label ?? f.apiName.replace(/_/g, ' '), f.dataType, f.length ?? null, f.mandatory ? 1 : 0,
        f.unique ? 1 : 0, f.readOnly ? 1 : 0, f.lookupModule ?? null, JSON.stringify(f.picklistValues ?? []), f.isNameField ? 1 : 0, position);
  }

  async listModules(orgId: string): Promise<ModuleDef[]> {
    this.checkMetadata();
    const cached = this.modulesCache.get(orgId);
    if (cached) return cached;
    const modules = (this.c.sql('SELECT * FROM modules WHERE org_id = ? ORDER BY rowid').all(orgId) as Row[]).map((m) => {
      this.tableNames.set(str(m.id), str(m.table_name));
      const fields = (this.c.sql('SELECT * FROM fields WHERE module_id = ? ORDER BY position').all(m.id) as Row[]).map(toField);
      return {
        id: str(m.id),
        apiName: str(m.api_name),
        singularLabel: str(m.singular_label),
        pluralLabel: str(m.plural_label),
        custom: m.custom === 1,
        fields,
      } satisfies ModuleDef;
    });
    this.modulesCache.set(orgId, modules);
    return modules;
  }

  recordTable(moduleId: string): RecordTable {
    this.checkMetadata();
    let t = this.tables.get(moduleId);
    if (!t) {
      const m = this.c.sql('SELECT org_id, table_name FROM modules WHERE id = ?').get(moduleId) as Row | undefined;
      if (!m) throw new Error(`unknown module ${moduleId}`);
      const cached = this.modulesCache.get(str(m.org_id));
      const module = cached?.find((x) => x.id === moduleId) ?? this.loadModule(moduleId);
      t = new RecordTable(this.c.db, str(m.table_name), module);
      this.tables.set(moduleId, t);
    }
    return t;
  }

  private loadModule(moduleId: string): ModuleDef {
    const m = this.c.sql('SELECT * FROM modules WHERE id = ?').get(moduleId) as Row;
    const fields = (this.c.sql('SELECT * FROM fields WHERE module_id = ? ORDER BY position').all(moduleId) as Row[]).map(toField);
    return { id: moduleId, apiName: str(m.api_name), singularLabel: str(m.singular_label), pluralLabel: str(m.plural_label), custom: m.custom === 1, fields };
  }
}

function toField(r: Row): FieldDef {
  return {
    id: str(r.id), apiName: str(r.api_name), label: str(r.label), dataType: str(r.data_type) as DataType,
    length: r.length === null ? null : Number(r.length), mandatory: r.mandatory === 1, unique: r.is_unique === 1,
    readOnly: r.read_only === 1, lookupModule: r.lookup_module === null ? null : str(r.lookup_module),
    picklistValues: JSON.parse(str(r.picklist)) as string[], isNameField: r.is_name === 1,
  };
}
