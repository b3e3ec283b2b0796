import { planSchema, type SchemaPlan } from '../domain/schema.js';
import type { FieldSpec, ModuleSpec } from '../domain/standard-modules.js';
import type { Store } from '../ports/store.js';

/** Custom modules and fields: declared in a schema file or added one by one, never losing records. */
export class SchemaService {
  constructor(private readonly store: Store) {}

  /** Brings one org up to a schema document; returns what was added. */
  async apply(orgId: string, desired: readonly ModuleSpec[]): Promise<SchemaPlan> {
    const plan = planSchema(await this.store.listModules(orgId), desired);
    if (plan.newModules.length > 0 || plan.newFields.length > 0) await this.store.applySchema(orgId, plan);
    return plan;
  }

  async addField(orgId: string, moduleApiName: string, field: FieldSpec): Promise<SchemaPlan> {
    const module = (await this.store.listModules(orgId)).find((m) => m.apiName.toLowerCase() === moduleApiName.toLowerCase());
    if (!module) throw new Error(`no module ${moduleApiName}`);
    if (module.fields.some((f) => f.apiName.toLowerCase() === field.apiName.toLowerCase())) {
      throw new Error(`${module.apiName} already has a field ${field.apiName}`);
    }
    return this.apply(orgId, [{ apiName: module.apiName, singularLabel: module.singularLabel, pluralLabel: module.pluralLabel, fields: [field] }]);
  }
}
