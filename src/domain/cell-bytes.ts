import type { CoercionContext } from './coercion.js';
import { isValidDate } from './date-format.js';
import type { FieldDef } from './metadata.js';

/**
 * Whether a cell, given as its UTF-8 bytes `b[start, end)`, is one that coerceCell takes as it is
 * written: not blank, valid for its field, and its value the cell's own text (or a number written
 * as String() writes it). An insert whose cells all are so goes to a store that takes CSV lines as
 * that line's bytes (RecordRows.lines), and then such a cell need never become a string.
 *
 * The checks are conservative: true is a promise, false only "not known here". A cell answered
 * false is read as a string and goes through coerceCell, so a check that is too strict costs time,
 * one that is too lax stores a value coerceCell would refuse or write differently: the unit tests
 * hold each check to coerceCell on the same cells.
 *
 * Bytes of 0x80 and above are accepted only by the text checks, and only as well-formed UTF-8.
 */
export type CellBytesCheck = (b: Uint8Array, start: number, end: number) => boolean;

const TAB = 0x09;
const SPACE = 0x20;
const DOT = 0x2e;
const AT = 0x40;
const COLON = 0x3a;
const SLASH = 0x2f;
const ZERO = 0x30;
const NINE = 0x39;

/** The check for cells of `field`, or null where none is written (they are read as strings). */
export function cellBytesCheck(field: FieldDef, ctx: CoercionContext): CellBytesCheck | null {
  switch (field.dataType) {
    case 'text':
    case 'textarea':
      return textCheck(field.length);
    case 'email':
      return limited(isEmail, field.length);
    case 'phone':
      return limited(isPhone, field.length);
    case 'website':
      return limited(isWebsite, field.length);
    case 'integer':
      return plainIntegerCheck(Math.min(field.length ?? 9, 15));
    case 'bigint':
      return plainIntegerCheck(Math.min(field.length ?? 18, 15));
    case 'double':
    case 'percent':
      return decimalCheck(16);
    case 'currency':
      return decimalCheck(field.length ?? 16);
    case 'date':
      // Only ISO dates are stored as written; another format is rewritten (coerceDate).
      return ctx.format === null || ctx.format === 'yyyy-MM-dd' ? isIsoDate : null;
    default:
      // Booleans and date-times are stored rewritten, picklists in their canonical spelling (the
      // batch's processor knows it: spelledCheck); references need the store.
      return null;
  }
}

/**
 * A cell that is one of `spellings` byte for byte (a picklist's values that its canonical spelling
 * keeps as they are written: BatchProcessor chooses them). null for no spellings.
 */
export function spelledCheck(spellings: readonly string[]): CellBytesCheck | null {
  const encoder = new TextEncoder();
  const byLength = new Map<number, Uint8Array[]>();
  for (const s of spellings) {
    const bytes = encoder.encode(s);
    byLength.set(bytes.length, [...(byLength.get(bytes.length) ?? []), bytes]);
  }
  if (byLength.size === 0) return null;
  return (b, start, end) => {
    const candidates = byLength.get(end - start);
    if (candidates === undefined) return false;
    for (const e of candidates) {
      let i = 0;
      while (i < e.length && b[start + i] === e[i]) i++;
      if (i === e.length) return true;
    }
    return false;
  };
}

/**
 * Text is kept as written, spaces and all: it needs a character trim() would keep (a printable
 * ASCII one is asked for), no control character but tab, well-formed UTF-8, and at most `limit`
 * characters (code points, as withinLength counts them once UTF-16 units are too many).
 */
function textCheck(limit: number | null): CellBytesCheck {
  return (b, start, end) => {
    let visible = false;
    let high = false;
    for (let i = start; i < end; i++) {
      const c = b[i] as number;
      if (c > SPACE && c < 0x7f) visible = true;
      else if (c >= 0x80) high = true;
      else if (c < SPACE && c !== TAB) return false;
    }
    if (!visible || (high && !isWellFormedUtf8(b, start, end))) return false;
    if (limit === null || end - start <= limit) return true;
    let chars = 0;
    for (let i = start; i < end; i++) if (((b[i] as number) & 0xc0) !== 0x80) chars++;
    return chars <= limit;
  };
}

/** Printable ASCII of at most `limit` bytes (characters, then), passing `shape`. */
function limited(shape: CellBytesCheck, limit: number | null): CellBytesCheck {
  return (b, start, end) => (limit === null || end - start <= limit) && shape(b, start, end);
}

/** Printable ASCII, no space: none of \s, so the patterns' [^\s] and trim() agree with it. */
function isGraphic(c: number): boolean {
  return c > SPACE && c < 0x7f;
}

/** EMAIL in coercion.ts: one `@` after one byte or more, then two or more dot-separated labels. */
function isEmail(b: Uint8Array, start: number, end: number): boolean {
  let at = -1;
  for (let i = start; i < end; i++) {
    const c = b[i] as number;
    if (!isGraphic(c)) return false;
    if (c === AT) {
      if (at >= 0) return false;
      at = i;
    }
  }
  if (at <= start) return false;
  let labels = 0;
  let from = at + 1;
  for (let i = from; i <= end; i++) {
    if (i === end || b[i] === DOT) {
      if (i === from) return false;
      labels++;
      from = i + 1;
    }
  }
  return labels >= 2;
}

/** PHONE in coercion.ts, with a digit, and no space at either end (trim() would change the cell). */
function isPhone(b: Uint8Array, start: number, end: number): boolean {
  if (end === start || b[start] === SPACE || b[end - 1] === SPACE) return false;
  let digit = false;
  for (let i = start; i < end; i++) {
    const c = b[i] as number;
    if (c >= ZERO && c <= NINE) digit = true;
    // + - ( ) . x and space
    else if (c !== 0x2b && c !== 0x2d && c !== 0x28 && c !== 0x29 && c !== DOT && c !== 0x78 && c !== SPACE) return false;
  }
  return digit;
}

function isHostByte(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= ZERO && c <= NINE) || c === 0x2d;
}

/**
 * WEBSITE in coercion.ts, read left to right: `http://` or `https://` (lower case) or nothing;
 * two or more dot-separated labels of letters, digits and hyphens; `:` and digits; then `/`, `?` or
 * `#` and any printable ASCII. Each part can end in one place only, so no backtracking is lost.
 */
function isWebsite(b: Uint8Array, start: number, end: number): boolean {
  let i = start;
  if (end - start >= 7 && b[start] === 0x68 && b[start + 1] === 0x74 && b[start + 2] === 0x74 && b[start + 3] === 0x70) {
    i = b[start + 4] === 0x73 ? start + 5 : start + 4;
    i = i + 3 <= end && b[i] === COLON && b[i + 1] === SLASH && b[i + 2] === SLASH ? i + 3 : start;
  }
  let labels = 0;
  for (;;) {
    const from = i;
    while (i < end && isHostByte(b[i] as number)) i++;
    if (i === from) return false;
    labels++;
    if (i < end && b[i] === DOT) i++;
    else break;
  }
  if (labels < 2) return false;
  if (i < end && b[i] === COLON) {
    const from = ++i;
    while (i < end && (b[i] as number) >= ZERO && (b[i] as number) <= NINE) i++;
    if (i === from) return false;
  }
  if (i === end) return true;
  const c = b[i];
  if (c !== SLASH && c !== 0x3f && c !== 0x23) return false;
  for (i++; i < end; i++) if (!isGraphic(b[i] as number)) return false;
  return true;
}

/** Digits, no sign and no leading zero: the integers whose text is String(n) (coerceInteger's fast path). */
function plainIntegerCheck(maxDigits: number): CellBytesCheck {
  return (b, start, end) => {
    const n = end - start;
    if (n === 0 || n > maxDigits || (n > 1 && b[start] === ZERO)) return false;
    for (let i = start; i < end; i++) {
      const c = b[i] as number;
      if (c < ZERO || c > NINE) return false;
    }
    return true;
  };
}

/**
 * A decimal that String(Number(text)) writes back as it is: no sign, no leading zero, a fraction
 * without a trailing zero, 15 significant digits at most (each such decimal is the shortest that
 * reads back as its double), and not under 1e-6 (written with an exponent then).
 */
function decimalCheck(maxIntegerDigits: number): CellBytesCheck {
  const maxInteger = Math.min(maxIntegerDigits, 15);
  return (b, start, end) => {
    let i = start;
    while (i < end && (b[i] as number) >= ZERO && (b[i] as number) <= NINE) i++;
    const integer = i - start;
    if (integer === 0 || integer > maxInteger || (integer > 1 && b[start] === ZERO)) return false;
    if (i === end) return true;
    if (b[i] !== DOT) return false;
    const from = ++i;
    while (i < end && (b[i] as number) >= ZERO && (b[i] as number) <= NINE) i++;
    const fraction = i - from;
    if (i !== end || fraction === 0 || b[end - 1] === ZERO) return false;
    const zeroInteger = integer === 1 && b[start] === ZERO;
    return zeroInteger ? fraction <= 6 : integer + fraction <= 15;
  };
}

/** yyyy-MM-dd, a real date: what coerceDate stores as written under the default formats. */
function isIsoDate(b: Uint8Array, start: number, end: number): boolean {
  if (end - start !== 10 || b[start + 4] !== 0x2d || b[start + 7] !== 0x2d) return false;
  // A loop, not a closure per digit: a closure was ~100 bytes allocated per cell (alloc-profile.mjs).
  let year = 0;
  let month = 0;
  let day = 0;
  for (let k = 0; k < 10; k++) {
    if (k === 4 || k === 7) continue;
    const c = (b[start + k] as number) - ZERO;
    if (c < 0 || c > 9) return false;
    if (k < 4) year = year * 10 + c;
    else if (k < 7) month = month * 10 + c;
    else day = day * 10 + c;
  }
  return isValidDate(year, month, day);
}

/**
 * RFC 3629: no overlong form, no surrogate, nothing past U+10FFFF. What Buffer#toString would
 * decode without a U+FFFD, and what PostgreSQL takes as UTF-8.
 */
export function isWellFormedUtf8(b: Uint8Array, start: number, end: number): boolean {
  let i = start;
  while (i < end) {
    const c = b[i] as number;
    if (c < 0x80) {
      i++;
      continue;
    }
    let more: number;
    let low = 0x80;
    let high = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) more = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      more = 2;
      if (c === 0xe0) low = 0xa0;
      else if (c === 0xed) high = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      more = 3;
      if (c === 0xf0) low = 0x90;
      else if (c === 0xf4) high = 0x8f;
    } else return false;
    if (i + more >= end) return false;
    const second = b[i + 1] as number;
    if (second < low || second > high) return false;
    for (let k = 2; k <= more; k++) {
      const next = b[i + k] as number;
      if (next < 0x80 || next > 0xbf) return false;
    }
    i += more + 1;
  }
  return true;
}
