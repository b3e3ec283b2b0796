import { parseSchemaDocument } from '../../src/domain/schema.js';
import { SchemaService } from '../../src/services/schema-service.js';
import type { TestServer } from './server.js';

/**
 * Gives the test server's org the custom modules and fields of a schema document
 * (`{ modules: [{ api_name, fields: [{ api_name, data_type, … }] }] }`), as the server's schema option does.
 */
export async function applySchema(server: TestServer, doc: unknown): Promise<void> {
  await new SchemaService(server.bw.store).apply(server.orgId, parseSchemaDocument(doc));
}

/** A custom module holding one field of each data type Zoho's standard modules leave out. */
export const GADGETS_SCHEMA = {
  modules: [
    {
      api_name: 'Gadgets',
      singular_label: 'Gadget',
      plural_label: 'Gadgets',
      fields: [
        { api_name: 'Gadget_Name', data_type: 'text', length: 120, mandatory: true, name_field: true },
        { api_name: 'Serial', data_type: 'bigint' },
        { api_name: 'Weight', data_type: 'double' },
        { api_name: 'Discount', data_type: 'percent' },
        { api_name: 'In_Stock', data_type: 'boolean' },
        { api_name: 'Launched_At', data_type: 'datetime' },
        { api_name: 'Colours', data_type: 'multiselectpicklist', picklist_values: ['Red', 'Blue'] },
        { api_name: 'Reviewer', data_type: 'userlookup' },
        { api_name: 'Vendor', data_type: 'lookup', lookup_module: 'Accounts' },
        { api_name: 'Asset_Tag', data_type: 'text', length: 20, unique: true },
      ],
    },
  ],
};
