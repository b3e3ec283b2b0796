import { isUtf8 } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { cellBytesCheck, isWellFormedUtf8, spelledCheck } from '../../src/domain/cell-bytes.js';
import { coerceCell, Refusal, type CoercionContext } from '../../src/domain/coercion.js';
import type { DataType, FieldDef } from '../../src/domain/metadata.js';
import { field } from './metadata-builders.js';

const UTC: CoercionContext = { timeZone: 'UTC', format: null };
const of = (dataType: DataType, overrides: Partial<FieldDef> = {}): FieldDef => field(`A_${dataType}`, dataType, overrides);

/** What BatchProcessor.prepare asks of a cell written as its line's bytes: coerceCell keeps it as written. */
function takenAsWritten(f: FieldDef, cell: string, ctx: CoercionContext): boolean {
  if (cell.trim() === '') return false;
  const v = coerceCell(f, cell, ctx);
  if (v instanceof Refusal) return false;
  return v === cell || (typeof v === 'number' && String(v) === cell);
}

/** The check's answer for a cell placed between other bytes, as in a record. */
function check(f: FieldDef, bytes: Uint8Array, ctx = UTC): boolean {
  const padded = Buffer.concat([Buffer.from('x,'), bytes, Buffer.from(',y')]);
  const c = cellBytesCheck(f, ctx);
  if (c === null) throw new Error(`no check for ${f.dataType}`);
  return c(padded, 2, 2 + bytes.length);
}

// Pieces that cells are made of: each field type's own characters, the ones next to them, spaces
// of both kinds, and bytes that are not UTF-8.
const PIECES: readonly (string | readonly number[])[] = [
  '0', '1', '5', '9', '00', '12', '.', '-', '+', ' ', '(', ')', 'x', 'X', '@', ':', '/', '//', '?', '#', 'a', 'Z', 'h', 'http', 'https', '://',
  'www', '.com', 'e', 'E', ',', '\t', '\u000b', '\u00a0', '\u2028', '\ufeff', 'é', 'Ł', '日本', '😀', '\ufffd', '"', '\\', '\u007f', '\u0000',
  [0xff], [0x80], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf4, 0x90, 0x80, 0x80], [0xc3],
];

function random(seed: number): () => number {
  let r = seed >>> 0;
  return () => {
    r = (Math.imul(r, 1103515245) + 12345) >>> 0;
    return r >>> 8;
  };
}

function pieceOf(next: () => number): Buffer {
  const p = PIECES[next() % PIECES.length] as string | readonly number[];
  return typeof p === 'string' ? Buffer.from(p) : Buffer.from(p);
}

/** A deterministic pseudo-random cell of up to `most` pieces. */
function cellOf(seed: number, most: number): Buffer {
  const next = random(seed);
  const parts: Buffer[] = [];
  const n = next() % (most + 1);
  for (let i = 0; i < n; i++) parts.push(pieceOf(next));
  return Buffer.concat(parts);
}

// Cells that pass, to be changed a little: most random cells are far from any field's shape.
const NEAR: readonly string[] = [
  'lead1@example.com', 'a@b.c', '+1 555 0000001', '(555) 12-3 x9', 'https://www.example1.com/p?q#r', 'http://a.b:80', 'a.b',
  '0', '4999', '123456789012345', '12.5', '0.000001', '2024-02-29', '2023-12-31', 'Müller 12', 'Acme',
];

/** One of NEAR with one to three bytes replaced, inserted or cut, or a piece put in. */
function nearCellOf(seed: number): Buffer {
  const next = random(seed);
  let cell = Buffer.from(NEAR[next() % NEAR.length] as string);
  const edits = 1 + (next() % 3);
  for (let e = 0; e < edits; e++) {
    const at = next() % (cell.length + 1);
    const kind = next() % 4;
    if (kind === 0 && at < cell.length) cell = Buffer.concat([cell.subarray(0, at), cell.subarray(at + 1)]);
    else if (kind === 1 && at < cell.length) cell[at] = 0x30 + (next() % 10);
    else if (kind === 2 && at < cell.length) cell[at] = next() % 256;
    else cell = Buffer.concat([cell.subarray(0, at), pieceOf(next), cell.subarray(at)]);
  }
  return cell;
}

const FIELDS: readonly [string, FieldDef, CoercionContext][] = [
  ['text', of('text', { length: 12 }), UTC],
  ['textarea without a limit', of('textarea', { length: null }), UTC],
  ['email', of('email', { length: 20 }), UTC],
  ['phone', of('phone', { length: 15 }), UTC],
  ['website', of('website', { length: 30 }), UTC],
  ['integer', of('integer', { length: 9 }), UTC],
  ['bigint', of('bigint', { length: 18 }), UTC],
  ['double', of('double'), UTC],
  ['currency', of('currency', { length: 5 }), UTC],
  ['date', of('date'), UTC],
  ['date in yyyy-MM-dd', of('date'), { timeZone: 'UTC', format: 'yyyy-MM-dd' }],
];

describe('a cell checked on its bytes', () => {
  for (const [name, f, ctx] of FIELDS) {
    it(`is taken only when coerceCell keeps it as written (${name}, 200,000 generated cells)`, () => {
      let taken = 0;
      for (let seed = 0; seed < 200_000; seed++) {
        const bytes = seed % 2 === 0 ? cellOf(seed * 7919 + name.length, 8) : nearCellOf(seed * 7919 + name.length);
        if (!check(f, bytes, ctx)) continue;
        taken++;
        const cell = bytes.toString('utf8');
        expect.soft(isUtf8(bytes), `${name}: ${JSON.stringify(cell)}`).toBe(true);
        expect.soft(takenAsWritten(f, cell, ctx), `${name}: ${JSON.stringify(cell)}`).toBe(true);
      }
      // The generator reaches the fast path too, or the test would hold nothing to account.
      expect(taken).toBeGreaterThan(100);
    });
  }

  it.each([
    ['text', of('text', { length: 80 }), ['Müller 12', 'Acme Corp', ' leading space', 'tab\there', 'Dvořák', '日本 Co', 'x']],
    ['text of exactly its length in characters', of('text', { length: 3 }), ['äöx', 'a😀b']],
    ['email', of('email', { length: 100 }), ['lead1@example.com', 'a.b+c@sub.example.co.uk']],
    ['phone', of('phone', { length: 30 }), ['+1 555 0000001', '(555) 123-4567 x89', '5']],
    ['website', of('website', { length: 255 }), ['https://www.example1.com', 'http://a.b:8080/x?y#z', 'example.com', 'a-b.c-d/path']],
    ['integer', of('integer', { length: 9 }), ['0', '4999', '123456789']],
    ['currency', of('currency', { length: 16 }), ['12', '12.5', '0.25', '0.000001', '123456789012.345']],
    ['date', of('date'), ['2024-02-29', '1999-12-31']],
  ] as const)('takes the common cells of a %s field', (_name, f, cells) => {
    for (const cell of cells) {
      expect(check(f, Buffer.from(cell)), cell).toBe(true);
      expect(takenAsWritten(f, cell, UTC), cell).toBe(true);
    }
  });

  it.each([
    ['text', of('text', { length: 5 }), ['', '   ', '\t', '\u00a0', 'é', 'abcdef', 'ab\u0000c', 'a\u000bb']],
    ['email', of('email', { length: 100 }), ['a@b', '@b.c', 'a@b..c', 'a@@b.c', ' a@b.c', 'a@b.c ', 'é@b.c', 'a@b.c.']],
    ['phone', of('phone', { length: 30 }), [' 5', '5 ', '()', '+1-555-ABC', '5\t5']],
    ['website', of('website', { length: 255 }), ['example', 'HTTP://a.b', 'https//a.b', 'a.b:', 'a.b:x', 'a..b', 'a.b/ x', 'https://', 'a.b.']],
    ['integer', of('integer', { length: 3 }), ['007', '-1', '+1', '1234', '1.0', '1,000', ' 1']],
    ['currency', of('currency', { length: 16 }), ['1.50', '.5', '5.', '0.0000001', '01.5', '1234567890123456', '1e5', '-2']],
    ['date', of('date'), ['2023-02-29', '2024-13-01', '24-01-01', '2024/01/01', '2024-00-10', '2024-01-00', '20x4-01-01', '2024-1a-01', '2024-01-1:', '2024-01-0/']],
  ] as const)('leaves other cells of a %s field to be read as strings', (_name, f, cells) => {
    for (const cell of cells) expect(check(f, Buffer.from(cell)), JSON.stringify(cell)).toBe(false);
  });

  it('has no check for fields stored rewritten: booleans, date-times, picklists, dates in another format', () => {
    expect(cellBytesCheck(of('boolean'), UTC)).toBeNull();
    expect(cellBytesCheck(of('datetime'), UTC)).toBeNull();
    expect(cellBytesCheck(of('picklist'), UTC)).toBeNull();
    expect(cellBytesCheck(of('date'), { timeZone: 'UTC', format: 'MM/dd/yyyy' })).toBeNull();
  });
});

describe('isWellFormedUtf8', () => {
  it('agrees with Node on 200,000 generated byte strings', () => {
    for (let seed = 0; seed < 200_000; seed++) {
      const bytes = cellOf(seed * 104729 + 1, 6);
      expect.soft(isWellFormedUtf8(bytes, 0, bytes.length), bytes.toString('hex')).toBe(isUtf8(bytes));
    }
  });

  it('refuses a sequence cut short by the end of the range, though bytes follow it', () => {
    const b = Buffer.from([0x61, 0xc3, 0xa9]);
    expect(isWellFormedUtf8(b, 0, 3)).toBe(true);
    expect(isWellFormedUtf8(b, 0, 2)).toBe(false);
  });
});

describe('spelledCheck', () => {
  const inRecord = (c: NonNullable<ReturnType<typeof spelledCheck>>, cell: string): boolean => {
    const bytes = Buffer.from(`x,${cell},y`);
    return c(bytes, 2, bytes.length - 2);
  };

  it('takes exactly the spellings given, byte for byte', () => {
    const c = spelledCheck(['Web', 'Cold Call', 'Ünïcode', 'Partner', 'Trade']) as NonNullable<ReturnType<typeof spelledCheck>>;
    for (const yes of ['Web', 'Cold Call', 'Ünïcode', 'Partner', 'Trade']) expect(inRecord(c, yes)).toBe(true);
    // Another case, a prefix, a longer cell, spaces, the same length but other bytes, nothing.
    for (const no of ['web', 'WEB', 'We', 'Webs', ' Web', 'Web ', 'Wex', 'Unicode', 'ünïcode', 'Trades', '']) expect(inRecord(c, no)).toBe(false);
  });

  it('is null for no spellings', () => {
    expect(spelledCheck([])).toBeNull();
  });
});
