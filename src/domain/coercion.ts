import { compileDatePattern, isValidDate, parseWithPattern, type ParsedDateTime } from './date-format.js';
import type { FieldDef } from './metadata.js';
import { formatZohoTime, wallTimeToInstant } from './time.js';

/** A value as the store keeps it: text, number, boolean, or null for empty. */
export type CellValue = string | number | boolean | null;

export type Coerced = { readonly ok: true; readonly value: CellValue } | { readonly ok: false; readonly reason: string };

/** Why a cell is INVALID_DATA; coerceCell returns one instead of a value. */
export class Refusal {
  constructor(readonly reason: string) {}
}

/**
 * A cell's value, or a Refusal: what the import's hot loop calls, without an object per cell (ten
 * million result objects were a sixth of a million-row job's allocations).
 */
export type Coercion = CellValue | Refusal;

const NUL = '\u0000';
/** Why a cell holding U+0000 is INVALID_DATA. */
export const HOLDS_NUL = new Refusal('contains a NUL character');

/**
 * No value holds U+0000, on any backend: PostgreSQL's text refuses it (and a COPY with one, its
 * whole batch), and the backends must answer alike. Asked of the cells of rows the reader found
 * one in (CsvBatch.nulRows), not of every cell: most files have none.
 */
export function holdsNul(raw: string): boolean {
  return raw.includes(NUL);
}

const ok = (value: CellValue): Coercion => value;
const bad = (reason: string): Coercion => new Refusal(reason);

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
  const v = holdsNul(raw) ? HOLDS_NUL : coerceCell(field, raw, ctx);
  return v instanceof Refusal ? { ok: false, reason: v.reason } : { ok: true, value: v };
}

/** coerceValue's answer as a value or a Refusal. */
export function coerceCell(field: FieldDef, raw: string, ctx: CoercionContext): Coercion {
  // Text is kept as written, spaces included: nothing to trim or test.
  if (field.dataType === 'text' || field.dataType === 'textarea') {
    return withinLength(field.length, raw) ? ok(raw) : bad(`longer than ${field.length} characters`);
  }
  // trim() makes a new string even when there is nothing to trim: most cells have nothing.
  const text = isSpaceAt(raw, 0) || isSpaceAt(raw, raw.length - 1) ? raw.trim() : raw;
  switch (field.dataType) {
    case 'email':
      if (!EMAIL.test(text)) return bad('not a valid email address');
      return withinLength(field.length, text) ? ok(text) : bad(`longer than ${field.length} characters`);
    case 'phone':
      if (!PHONE.test(text) || !/\d/.test(text)) return bad('not a phone number');
      return withinLength(field.length, text) ? ok(text) : bad(`longer than ${field.length} characters`);
    case 'website':
      if (!WEBSITE.test(text)) return bad('not a website address');
      return withinLength(field.length, text) ? ok(text) : bad(`longer than ${field.length} characters`);
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
      return withinLength(field.length ?? 120, text) ? ok(text) : bad(`longer than ${field.length ?? 120} characters`);
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

/** Whether the character at i is one String.prototype.trim removes (ASCII fast path, else the regex). */
function isSpaceAt(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  if (c > 32 && c < 127) return false;
  return !Number.isNaN(c) && /\s/.test(s[i] as string);
}

function withinLength(limit: number | null, value: string): boolean {
  // UTF-16 length bounds the count of characters from above: count them only when it must.
  return limit === null || value.length <= limit || [...value].length <= limit;
}

/** Plain digits, no sign, separator or leading zero, within `maxDigits` (at most 15: a safe integer). */
function isPlainInteger(text: string, maxDigits: number): boolean {
  const n = text.length;
  if (n === 0 || n > maxDigits || n > 15 || (n > 1 && text.charCodeAt(0) === 48)) return false;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function coerceInteger(text: string, maxDigits: number): Coercion {
  // Most cells are plain digits: answered without the regular expressions below (a hot path).
  if (isPlainInteger(text, maxDigits)) return ok(Number(text));
  const normalized = text.replace(/,/g, '');
  if (!INTEGER.test(normalized)) return bad('not a whole number');
  const digits = normalized.replace(/^[+-]/, '').replace(/^0+(?=\d)/, '');
  if (digits.length > maxDigits) return bad(`more than ${maxDigits} digits`);
  const n = Number(normalized);
  return Number.isSafeInteger(n) ? ok(n) : ok(BigInt(normalized).toString());
}

function coerceDecimal(text: string, maxIntegerDigits: number): Coercion {
  const normalized = text.replace(/,/g, '');
  if (!DECIMAL.test(normalized)) return bad('not a number');
  const integerPart = normalized.replace(/^[+-]/, '').split('.')[0] ?? '';
  if (integerPart.replace(/^0+/, '').length > maxIntegerDigits) return bad(`more than ${maxIntegerDigits} digits before the point`);
  return ok(Number(normalized));
}

function coerceBoolean(text: string): Coercion {
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

/** `yyyy-MM-dd` with two-digit month and day, or null: a date already in the form it is stored in. */
function isoDate(text: string): string | null {
  if (text.length !== 10 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45) return null;
  let year = 0;
  for (let i = 0; i < 4; i++) year = year * 10 + digitAt(text, i);
  const month = digitAt(text, 5) * 10 + digitAt(text, 6);
  const day = digitAt(text, 8) * 10 + digitAt(text, 9);
  return Number.isNaN(year + month + day) || !isValidDate(year, month, day) ? null : text;
}

function digitAt(text: string, i: number): number {
  const c = text.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : NaN;
}

function coerceDate(text: string, ctx: CoercionContext): Coercion {
  // ISO dates, the common case under the default formats, are read without a pattern (a hot path).
  if (ctx.format === null || ctx.format === 'yyyy-MM-dd') {
    const iso = isoDate(text);
    if (iso !== null) return ok(iso);
  }
  const parsed = parseFirst(text, ctx.format ? [ctx.format] : DEFAULT_DATE_FORMATS);
  if (!parsed) return bad(`not a date in the format ${ctx.format ?? DEFAULT_DATE_FORMATS.join(' or ')}`);
  return ok(`${String(parsed.year).padStart(4, '0')}-${pad2(parsed.month)}-${pad2(parsed.day)}`);
}

function coerceDateTime(text: string, ctx: CoercionContext): Coercion {
  const parsed = parseFirst(text, ctx.format ? [ctx.format] : DEFAULT_DATETIME_FORMATS);
  if (!parsed) return bad(`not a date-time in the format ${ctx.format ?? DEFAULT_DATETIME_FORMATS[0]}`);
  // A stored date-time is written yyyy-MM-ddTHH:mm:ss±HH:mm, and Date.UTC reads years 0–99 as 1900–1999.
  if (parsed.year < 1000) return bad('not a date-time from the year 1000 on');
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
