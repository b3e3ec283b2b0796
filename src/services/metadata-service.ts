import { Errors } from '../domain/errors.js';
import type { FieldDef, ModuleDef } from '../domain/metadata.js';
import { ZohoError } from '../domain/errors.js';
import type { Store, User } from '../ports/store.js';
import type { Principal } from './principal.js';

// JSON type of each data type in Zoho's fields metadata.
const JSON_TYPE: Readonly<Record<FieldDef['dataType'], string>> = {
  text: 'string', textarea: 'string', email: 'string', phone: 'string', website: 'string', picklist: 'string', date: 'string',
  datetime: 'string', autonumber: 'string', integer: 'integer', bigint: 'string', double: 'double', currency: 'double',
  percent: 'double', boolean: 'boolean', multiselectpicklist: 'jsonarray', lookup: 'jsonobject', ownerlookup: 'jsonobject',
  userlookup: 'jsonobject',
};

export function invalidModule(): ZohoError {
  return new ZohoError(400, 'INVALID_MODULE', 'the module name given seems to be invalid');
}

/** Zoho's settings and users APIs (`/crm/v2.1/settings/modules`, `/settings/fields`, `/users`). */
export class MetadataService {
  constructor(private readonly store: Store) {}

  async module(principal: Principal, apiName: string): Promise<ModuleDef> {
    const m = (await this.store.listModules(principal.orgId)).find((x) => x.apiName.toLowerCase() === apiName.toLowerCase());
    if (!m) throw invalidModule();
    return m;
  }

  async modules(principal: Principal): Promise<Record<string, unknown>> {
    const modules = await this.store.listModules(principal.orgId);
    return {
      modules: modules.map((m, i) => ({
        api_name: m.apiName,
        id: m.id,
        module_name: m.pluralLabel,
        singular_label: m.singularLabel,
        plural_label: m.pluralLabel,
        api_supported: true,
        generated_type: m.custom ? 'custom' : 'default',
        creatable: true,
        editable: true,
        deletable: true,
        viewable: true,
        visible: true,
        sequence_number: i + 1,
      })),
    };
  }

  async fields(principal: Principal, moduleApiName: string | undefined): Promise<Record<string, unknown>> {
    if (!moduleApiName) throw Errors.requiredParamMissing('module');
    const m = await this.module(principal, moduleApiName);
    const modules = await this.store.listModules(principal.orgId);
    return {
      fields: m.fields.map((f) => {
        const target = f.lookupModule ? modules.find((x) => x.apiName === f.lookupModule) : undefined;
        return {
          api_name: f.apiName,
          id: f.id,
          field_label: f.label,
          display_label: f.label,
          data_type: f.dataType,
          json_type: JSON_TYPE[f.dataType],
          length: f.length,
          system_mandatory: f.mandatory,
          read_only: f.readOnly,
          custom_field: false,
          visible: true,
          unique: f.unique ? { casesensitive: 'false' } : {},
          lookup: f.dataType === 'lookup' && target
            ? { display_label: f.label, api_name: f.apiName, module: target.apiName, id: target.id }
            : {},
          pick_list_values: f.picklistValues.map((v, i) => ({ display_value: v, actual_value: v, sequence_number: i + 1, type: 'used' })),
        };
      }),
    };
  }

  async users(principal: Principal): Promise<Record<string, unknown>> {
    const users = await this.store.listUsers(principal.orgId);
    return {
      users: users.map(renderUser),
      info: { per_page: 200, count: users.length, page: 1, more_records: false },
    };
  }
}

function renderUser(u: User): Record<string, unknown> {
  const [first, ...rest] = u.name.split(' ');
  return {
    id: u.id,
    full_name: u.name,
    first_name: rest.length ? first : null,
    last_name: rest.length ? rest.join(' ') : u.name,
    email: u.email,
    status: u.active ? 'active' : 'disabled',
    role: { name: u.role === 'admin' ? 'CEO' : 'Standard', id: null },
    profile: { name: u.role === 'admin' ? 'Administrator' : 'Standard', id: null },
  };
}
