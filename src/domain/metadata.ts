/** Modules and fields are data (DESIGN.md "Records and metadata"), described with Zoho's data types. */
export type DataType =
  | 'text'
  | 'textarea'
  | 'email'
  | 'phone'
  | 'website'
  | 'integer'
  | 'bigint'
  | 'double'
  | 'currency'
  | 'percent'
  | 'boolean'
  | 'date'
  | 'datetime'
  | 'picklist'
  | 'multiselectpicklist'
  | 'lookup'
  | 'ownerlookup'
  | 'userlookup'
  | 'autonumber';

export interface FieldDef {
  readonly id: string;
  readonly apiName: string;
  readonly label: string;
  readonly dataType: DataType;
  readonly length: number | null;
  readonly mandatory: boolean;
  readonly unique: boolean;
  readonly readOnly: boolean;
  /** For lookup fields: the api_name of the module looked up. */
  readonly lookupModule: string | null;
  readonly picklistValues: readonly string[];
  /** The module's display-name field (Zoho's "name" of a record, e.g. Account_Name). */
  readonly isNameField: boolean;
}

export interface ModuleDef {
  readonly id: string;
  readonly apiName: string;
  readonly singularLabel: string;
  readonly pluralLabel: string;
  readonly custom: boolean;
  readonly fields: readonly FieldDef[];
}

/** System fields every module has; Bulk Write may not set them (Owner aside). */
export const SYSTEM_FIELD_NAMES = ['id', 'Created_Time', 'Modified_Time', 'Created_By', 'Modified_By'] as const;

export function findField(module: ModuleDef, apiName: string): FieldDef | undefined {
  return module.fields.find((f) => f.apiName === apiName) ?? module.fields.find((f) => f.apiName.toLowerCase() === apiName.toLowerCase());
}

export function nameField(module: ModuleDef): FieldDef | undefined {
  return module.fields.find((f) => f.isNameField);
}

export function isUserField(field: FieldDef): boolean {
  return field.dataType === 'ownerlookup' || field.dataType === 'userlookup';
}

export function isReferenceField(field: FieldDef): boolean {
  return field.dataType === 'lookup' || isUserField(field);
}

/** Fields a find_by may name: the record id or any unique field (reference §9.3). */
export function canMatchOn(module: ModuleDef, apiName: string): boolean {
  if (apiName === 'id') return true;
  const f = findField(module, apiName);
  return f !== undefined && f.unique;
}

/**
 * The form in which two values of a unique or name field are the same record: Zoho's duplicate
 * check and lookups by name ignore case, in every script (É = é), not just ASCII.
 */
export function foldKey(value: string | number | boolean): string {
  const s = String(value);
  // One pass over the value: printable ASCII (and tab) without a capital, as most emails are, is
  // its own key, with no copy made (an upsert folds each unique value twice: profiles showed it).
  let capital = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7e || (c < 0x20 && c !== 0x09)) return s.normalize('NFC').toLowerCase();
    if (c >= 0x41 && c <= 0x5a) capital = true;
  }
  return capital ? s.toLowerCase() : s;
}
