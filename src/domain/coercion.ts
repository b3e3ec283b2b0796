import { compileDatePattern, parseWithPattern, type ParsedDateTime } from './date-format.js';
import type { FieldDef } from './metadata.js';
import { formatZohoTime, wallTimeToInstant } from './time.js';

/** A value as the store keeps it: text, number, boolean, or null for empty. */
export type CellValue = string | number | boolean | null;

export type Coerced = { readonly ok: true; readonly value: CellValue } | { readonly ok: false; readonly reason: string };

const ok = (value: CellValue): Coerced => ({ ok: true, value });
const bad = (reason: string): Coerced => ({ ok: false, reason });

// Zoho's defaults when a mapping has no `format` (reference §9.6): both documented forms are taken.
export const DEFAULT_DATE_FORMATS = ['MM/dd/yyyy', 'yyyy-MM-dd'];
export const DEFAULT_DATETIME_FORMATS = [
  'MM/dd/yyyy HH:mm:ss',
  "yyyy-MM-dd'T'HH:mm:ssXXX",
  "yyyy-MM-dd'T'HH:mm:ss.SSSXXX",
  "yyyy-MM-dd'T'HH:mm:ss",
  'yyyy-MM-dd HH:mm:ss',
];

const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;
const PHONE = /^[0-9+\-(). x]+$/;
const WEBSITE = /^(https?:\/\/)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+(:\d+)?([/?#][^\s]*)?$/;
const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

export interface CoercionContext {
  readonly timeZone: string;
  readonly format: string | null;
}

/**
 * Turns one non-empty CSV cell into the field's stored value, or says why it is INVALID_DATA.
 * Lookups and user fields come back as their raw key; resolving them needs the store.
 */
export function coerceValue(field: FieldDef, raw: string, ctx: CoercionContext): Coerced {
  const text = raw.trim();
  switch (field.dataType) {
    case 'text':
    case 'textarea':
      return withinLength(field, raw) ? ok(raw) : bad(`longer than ${field.length} characters`);
    case 'email':
      if (!EMAIL.test(text)) return bad('not a valid email address');
      return withinLength(field, text) ? ok(text) : bad(`longer than ${field.length} characters`);
    case 'phone':
      if (!PHONE.test(text) || !/\d/.test(text)) return bad('not a phone number');
      return withinLength(field, text) ? ok(text) : bad(`longer than ${field.length} characters`);
    case 'website':
      if (!WEBSITE.test(text)) return bad('not a website address');
      return withinLength(field, text) ? ok(text) : bad(`longer than ${field.length} characters`);
    case 'integer':
      return coerceInteger(text, field.length ?? 9);
    case 'bigint':
      return coerceInteger(text, field.length ?? 18);
    case 'double':
    case 'percent':
      return coerceDecimal(text, 16);
    case 'currency':
      return coerceDecimal(text, field.length ?? 16);
    case 'boolean':
      return coerceBoolean(text);
    case 'date':
      return coerceDate(text, ctx);
    case 'datetime':
      return coerceDateTime(text, ctx);
    case 'picklist':
      return withinLength({ ...field, length: field.length ?? 120 }, text) ? ok(text) : bad(`longer than ${field.length ?? 120} characters`);
    case 'multiselectpicklist': {
      const values = text.split(';').map((v) => v.trim()).filter((v) => v !== '');
      return values.length > 0 ? ok(values.join(';')) : bad('no values');
    }
    case 'lookup':
    case 'ownerlookup':
    case 'userlookup':
      return ok(text);
    case 'autonumber':
      return bad('is read only');
  }
}

function withinLength(field: FieldDef, value: string): boolean {
  // UTF-16 length bounds the count of characters from above: count them only when it must.
  return field.length === null || value.length <= field.length || [...value].length <= field.length;
}

function coerceInteger(text: string, maxDigits: number): Coerced {
  const normalized = text.replace(/,/g, '');
  if (!INTEGER.test(normalized)) return bad('not a whole number');
  const digits = normalized.replace(/^[+-]/, '').replace(/^0+(?=\d)/, '');
  if (digits.length > maxDigits) return bad(`more than ${maxDigits} digits`);
  const n = Number(normalized);
  return Number.isSafeInteger(n) ? ok(n) : ok(BigInt(normalized).toString());
}

function coerceDecimal(text: string, maxIntegerDigits: number): Coerced {
  const normalized = text.replace(/,/g, '');
  if (!DECIMAL.test(normalized)) return bad('not a number');
  const integerPart = normalized.replace(/^[+-]/, '').split('.')[0] ?? '';
  if (integerPart.replace(/^0+/, '').length > maxIntegerDigits) return bad(`more than ${maxIntegerDigits} digits before the point`);
  return ok(Number(normalized));
}

function coerceBoolean(text: string): Coerced {
  const t = text.toLowerCase();
  if (t === 'true' || t === '1' || t === 'yes') return ok(true);
  if (t === 'false' || t === '0' || t === 'no') return ok(false);
  return bad('not true or false');
}

function parseFirst(text: string, formats: readonly string[]): ParsedDateTime | null {
  for (const f of formats) {
    const pattern = compileDatePattern(f);
    const parsed = pattern && parseWithPattern(text, pattern);
    if (parsed) return parsed;
  }
  return null;
}

function coerceDate(text: string, ctx: CoercionContext): Coerced {
  const parsed = parseFirst(text, ctx.format ? [ctx.format] : DEFAULT_DATE_FORMATS);
  if (!parsed) return bad(`not a date in the format ${ctx.format ?? DEFAULT_DATE_FORMATS.join(' or ')}`);
  return ok(`${String(parsed.year).padStart(4, '0')}-${pad2(parsed.month)}-${pad2(parsed.day)}`);
}

function coerceDateTime(text: string, ctx: CoercionContext): Coerced {
  const parsed = parseFirst(text, ctx.format ? [ctx.format] : DEFAULT_DATETIME_FORMATS);
  if (!parsed) return bad(`not a date-time in the format ${ctx.format ?? DEFAULT_DATETIME_FORMATS[0]}`);
  const instant =
    parsed.offsetMinutes === null
      ? wallTimeToInstant(parsed, ctx.timeZone)
      : new Date(
          Date.UTC(parsed.year, parsed.month - 1, parsed.day, parsed.hour, parsed.minute, parsed.second) -
            parsed.offsetMinutes * 60_000,
        );
  return ok(formatZohoTime(instant, ctx.timeZone));
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** Whether a `format` given for a field's type can be used at all (create-job INVALID_FORMAT). */
export function isUsableFormat(field: FieldDef, format: string): boolean {
  const pattern = compileDatePattern(format);
  if (!pattern) return false;
  if (field.dataType === 'date') return pattern.hasDate;
  if (field.dataType === 'datetime') return pattern.hasDate && pattern.hasTime;
  return false;
}
