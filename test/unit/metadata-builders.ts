import type { DataType, FieldDef, ModuleDef } from '../../src/domain/metadata.js';

let nextFieldId = 1;

/** A field with Zoho's defaults (optional, not unique, writable, no length limit) unless overridden. */
export function field(apiName: string, dataType: DataType, overrides: Partial<FieldDef> = {}): FieldDef {
  const id = `4150868000000${String(nextFieldId++).padStart(6, '0')}`;
  return {
    id,
    apiName,
    label: apiName.replace(/_/g, ' '),
    dataType,
    length: null,
    mandatory: false,
    unique: false,
    readOnly: false,
    lookupModule: null,
    picklistValues: [],
    isNameField: false,
    ...overrides,
  };
}

export function moduleDef(apiName: string, id: string, fields: readonly FieldDef[]): ModuleDef {
  const singular = apiName.endsWith('s') ? apiName.slice(0, -1) : apiName;
  return { id, apiName, singularLabel: singular, pluralLabel: apiName, custom: false, fields };
}
