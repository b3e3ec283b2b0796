import { describe, expect, it } from 'vitest';
import type { CellValue } from '../../src/domain/coercion.js';
import { foldKey } from '../../src/domain/metadata.js';
import type { RecordRows } from '../../src/ports/store.js';
import { CopyPieces, COPY_PIECE_BYTES } from '../../src/store/postgres/copy-pieces.js';
import { copyDelimiter, copyDelimiterOption, copyLines } from '../../src/store/postgres/copy-text.js';
import { PgRecordTable } from '../../src/store/postgres/record-tables.js';
import type { FieldDef, ModuleDef } from '../../src/domain/metadata.js';

/** COPY's text format as its docs say it, one string per line: what the bytes must equal. */
function expected(rows: RecordRows, shared: readonly (CellValue | undefined)[], keyed: readonly number[]): string {
  const field = (v: CellValue | undefined): string => {
    if (v === undefined || v === null) return '\\N';
    if (typeof v === 'boolean') return v ? 't' : 'f';
    if (typeof v === 'number') return String(v);
    return v.replace(/[\\\t\n\r]/g, (m) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[m] as string);
  };
  return rows.ids
    .map((id, r) => {
      const cells = rows.values.map((column) => column[r]);
      const keys = keyed.map((c) => {
        const v = cells[c];
        return v === undefined || v === null ? null : foldKey(v);
      });
      return `${[id, ...shared.map(field), ...cells.map(field), ...keys.map(field)].join('\t')}\n`;
    })
    .join('');
}

function batch(values: (CellValue | undefined)[][]): RecordRows {
  const width = values[0]?.length ?? 0;
  return {
    columns: Array.from({ length: width }, (_, c) => `F${c}`),
    ids: values.map((_, r) => String(5725767000001000000n + BigInt(r))),
    values: Array.from({ length: width }, (_, c) => values.map((row) => row[c])),
    shared: {},
    keptKeys: [],
  };
}

const decoded = (pieces: Buffer[]): string => Buffer.concat(pieces).toString('utf8');
/** The expected lines as Buffer.from encodes them (a lone surrogate as U+FFFD), decoded again. */
const asUtf8 = (text: string): string => Buffer.from(text, 'utf8').toString('utf8');

describe('copyLines', () => {
  it('writes ids, shared values, cells and folded keys as COPY text, escaping backslash, tab and line breaks', () => {
    const rows = batch([
      ['Smith', 'smith@Zylker.com', 42, true, null],
      ['back\\slash\ttab', 'line\nbreak\rreturn', 3.5, false, undefined],
      ['Zoë Ærø', 'ÉLODIE@zylker.com', -7, null, ''],
    ]);
    const shared = ['2026-12-01T10:00:00+00:00', '5725767000000000001', null];
    expect(decoded(copyLines(rows, shared, [1])).split('\n')).toEqual(asUtf8(expected(rows, shared, [1])).split('\n'));
  });

  it('writes characters past the Basic Multilingual Plane as one, and a lone surrogate as U+FFFD', () => {
    const rows = batch([['😀 emoji', 'a\ud800b', '\udc00', 'x😀']]);
    expect(Buffer.concat(copyLines(rows, [], [])).equals(Buffer.from(expected(rows, [], []), 'utf8'))).toBe(true);
    expect(decoded(copyLines(rows, [], []))).toContain('\t😀 emoji\ta\ufffdb\t\ufffd\tx😀\n');
  });

  it('cuts many rows into pieces at line ends, and takes a row longer than a piece', () => {
    const rows = batch([
      ...Array.from({ length: 3000 }, (_, r) => [`row ${r}`, `é${'x'.repeat(r % 50)}\t`, r]),
      ['y'.repeat(200_000), '日本'.repeat(40_000), 1],
    ]);
    const pieces = copyLines(rows, ['shared'], [0]);
    expect(pieces.length).toBeGreaterThan(3);
    for (const p of pieces) expect(p[p.length - 1]).toBe(0x0a);
    expect(decoded(pieces)).toBe(asUtf8(expected(rows, ['shared'], [0])));
  });

  it('writes nothing for no rows, and takes no buffer for them', () => {
    expect(copyLines(batch([]), ['x'], [])).toEqual([]);
    let taken = 0;
    expect(copyLines(batch([]), ['x'], [], (least) => (taken++, Buffer.alloc(least)))).toEqual([]);
    expect(taken).toBe(0);
  });

  it('writes into the buffers of the source it is given, each piece a view of one', () => {
    const rows = batch(Array.from({ length: 3000 }, (_, r) => [`row ${r}`, 'x'.repeat(40)]));
    const given: Buffer[] = [];
    const pieces = copyLines(rows, [], [], (least) => {
      const b = Buffer.alloc(Math.max(COPY_PIECE_BYTES, least));
      given.push(b);
      return b;
    });
    expect(pieces.map((p) => p.buffer)).toEqual(given.map((b) => b.buffer));
    expect(decoded(pieces)).toBe(expected(rows, [], []));
  });
});

describe('CopyPieces', () => {
  it('lends a piece again once it is given back, through any view of it', () => {
    const pool = new CopyPieces();
    const a = pool.take(10);
    expect(a.length).toBe(COPY_PIECE_BYTES);
    pool.giveBack([a.subarray(0, 3)]);
    expect(pool.take(100).buffer).toBe(a.buffer);
    // Lent again: a second piece now is another buffer.
    expect(pool.take(100).buffer).not.toBe(a.buffer);
  });

  it('takes back only what it lent, each once, and keeps at most `keep` idle pieces', () => {
    const pool = new CopyPieces(2);
    const mine = [pool.take(1), pool.take(1), pool.take(1)];
    const big = pool.take(COPY_PIECE_BYTES + 1);
    expect(big.length).toBe(COPY_PIECE_BYTES + 1);
    // A foreign buffer, one too large to keep, and one piece given back twice.
    pool.giveBack([Buffer.alloc(COPY_PIECE_BYTES), big, mine[0] as Buffer, mine[0] as Buffer]);
    const again = [pool.take(1), pool.take(1)];
    expect(again[0]?.buffer).toBe(mine[0]?.buffer);
    expect(again[1]?.buffer).not.toBe(mine[0]?.buffer);
    pool.giveBack([...mine, ...again]);
    const kept = new Set([pool.take(1).buffer, pool.take(1).buffer, pool.take(1).buffer]);
    expect([...kept].filter((b) => [...mine, ...again].some((p) => p.buffer === b))).toHaveLength(2);
  });

  it('gives copyLines buffers that the next batch writes again after they come back', () => {
    const pool = new CopyPieces();
    const first = batch(Array.from({ length: 2000 }, (_, r) => [`first ${r}`, 'ä'.repeat(30)]));
    const second = batch(Array.from({ length: 2000 }, (_, r) => [`second ${r}`, 'ö'.repeat(20)]));
    const a = copyLines(first, [], [0], pool.take);
    expect(decoded(a)).toBe(expected(first, [], [0]));
    pool.giveBack(a);
    const b = copyLines(second, [], [0], pool.take);
    expect(b.map((p) => p.buffer)).toEqual(expect.arrayContaining(a.map((p) => p.buffer)));
    expect(decoded(b)).toBe(expected(second, [], [0]));
  });
});

/**
 * COPY text as PostgreSQL reads it (its docs, COPY "Text Format"): lines of fields split at each
 * unescaped `sep`, `\N` null, a backslash before any other character that character (or the
 * control character of b, f, n, r, t, v). No octal or hex escapes: copyLines writes none.
 */
function parseCopyText(text: string, sep: string): (string | null)[][] {
  const control: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };
  expect(text.endsWith('\n')).toBe(true);
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => {
      const fields: (string | null)[] = [];
      let field = '';
      let raw = '';
      for (let i = 0; i < line.length; i++) {
        const ch = line[i] as string;
        if (ch === '\\') {
          const next = line[++i] as string;
          raw += ch + next;
          field += control[next] ?? next;
        } else if (ch === sep) {
          fields.push(raw === '\\N' ? null : field);
          field = raw = '';
        } else {
          field += ch;
          raw += ch;
        }
      }
      fields.push(raw === '\\N' ? null : field);
      return fields;
    });
}

describe('copyLines with rows given as their CSV lines (RecordRows.lines)', () => {
  /** Rows whose lines are `lines` (null: written from its values), the values of those left undefined but for column `kept`. */
  function withLines(values: (CellValue | undefined)[][], lines: (string | null)[], delimiter: string, kept: number): RecordRows {
    const rows = batch(values);
    const parts = lines.map((l) => Buffer.from(l ?? '', 'utf8'));
    const starts = new Int32Array(lines.length).fill(-1);
    const ends = new Int32Array(lines.length).fill(-1);
    let at = 0;
    parts.forEach((p, r) => {
      if (lines[r] !== null) {
        starts[r] = at;
        ends[r] = at + p.length;
        rows.values.forEach((column, c) => c !== kept && ((column as (CellValue | undefined)[])[r] = undefined));
      }
      at += p.length;
    });
    return { ...rows, lines: { bytes: new Uint8Array(Buffer.concat(parts)), starts, ends, delimiter: delimiter.charCodeAt(0) } };
  }

  it.each([',', ';', ':', '|', '\t'])('writes a line’s cells as its values would be read, delimiter %j', (d) => {
    for (const kept of [1, -1]) writesAsValues(d, kept);
  });

  /** `kept`: the column whose values the rows given as lines keep (-1: none, their keys read from the lines). */
  function writesAsValues(d: string, kept: number): void {
    const values: (CellValue | undefined)[][] = [
      ['Smith', 'smith@Zylker.com', 'back\\slash', '42'],
      ['Zoë', 'ÉLODIE@zylker.com', d === '\t' ? 'no tab' : 'a\ttab', '日本'],
      ['from values', `v@x.io${d === '\t' ? '' : d}`, 'line\nbreak', null],
      ['two \\\\ here', 'k@x.io', 'and \\ there', 'end\\'],
      ['no backslash', 'k2@x.io', 'after', 'them'],
    ];
    const lines = [0, 1, null, 3, 4].map((r) => (r === null ? null : (values[r] as string[]).join(d)));
    const shared = ['2026-12-01T10:00:00+00:00', '5725767000000000001'];
    const rows = withLines(values, lines, d, kept);
    const sep = d === '\t' ? '\t' : d;
    expect(String.fromCharCode(copyDelimiter(rows))).toBe(sep);
    const got = decoded(copyLines(rows, shared, [1]));
    const parsed = parseCopyText(got, sep);
    expect(parsed).toEqual(parseCopyText(expected(batch(values), shared, [1]), '\t'));
    expect(parsed[2]?.[4]).toBe(`v@x.io${d === '\t' ? '' : d}`);
    // A line's bytes as they are, its backslashes doubled.
    expect(got).toContain(`${sep}${(lines[3] as string).replaceAll('\\', '\\\\')}${sep}`);
  }

  it.each([',', '\t'])('folds the keys it reads from lines as foldKey folds their values, delimiter %j', (d) => {
    const keys = ['UPPER@Zylker.COM', 'ÉLODIE@zylker.com', 'J\u030Cunction', 'İstanbul', 'Straße', 'back\\slash', '日本', 'a\u0001b', `with${d === '\t' ? ' ' : '\t'}tab`, '😀 Ω'];
    const values = keys.map((k, r): (CellValue | undefined)[] => [`row ${r}`, k, String(r)]);
    const rows = withLines(values, values.map((v) => v.join(d)), d, -1);
    const sep = d === '\t' ? '\t' : d;
    expect(parseCopyText(decoded(copyLines(rows, [], [1])), sep)).toEqual(parseCopyText(expected(batch(values), [], [1]), '\t'));
  });

  it('keeps the tab for a delimiter COPY would refuse or a line-less batch, and says which one COPY is given', () => {
    const rows = withLines([['a', 'b']], ['a.b'], '.', 1);
    expect(copyDelimiter(rows)).toBe(0x09);
    expect(copyDelimiter(batch([['a', 'b']]))).toBe(0x09);
    expect(decoded(copyLines(rows, [], [1]))).toBe(expected(batch([['a', 'b']]), [], [1]));
    expect(copyDelimiterOption(0x09)).toBe('');
    expect(copyDelimiterOption(0x2c)).toBe(" (DELIMITER ',')");
    expect(copyDelimiterOption(0x7c)).toBe(" (DELIMITER '|')");
  });

  it('doubles the backslashes of lines stored in any order, and of bytes seen through an offset view', () => {
    // Row 0's line is the second in the bytes and has no backslash; row 1's, before it, has one:
    // the next backslash found for row 0 says nothing about row 1's earlier bytes.
    const first = 'a\\b,x@y.io';
    const second = 'plain,k@y.io';
    const bytes = Buffer.from(`${first}${second}`, 'utf8');
    const values = [
      ['plain', 'k@y.io'],
      ['a\\b', 'x@y.io'],
    ];
    const order: RecordRows = {
      ...batch(values),
      lines: { bytes: new Uint8Array(bytes), starts: Int32Array.of(first.length, 0), ends: Int32Array.of(bytes.length, first.length), delimiter: 0x2c },
    };
    expect(parseCopyText(decoded(copyLines(order, [], [1])), ',')).toEqual(parseCopyText(expected(batch(values), [], [1]), '\t'));
    // The same bytes at offset 7 of a larger buffer whose first bytes are backslashes.
    const larger = Buffer.concat([Buffer.from('\\'.repeat(7)), bytes, Buffer.from('\\\\')]);
    const view: RecordRows = { ...order, lines: { ...(order.lines as NonNullable<RecordRows['lines']>), bytes: new Uint8Array(larger.buffer, larger.byteOffset + 7, bytes.length) } };
    expect(parseCopyText(decoded(copyLines(view, [], [1])), ',')).toEqual(parseCopyText(expected(batch(values), [], [1]), '\t'));
  });

  it('names the delimiter in the COPY statement of a batch with lines, and never in that of updates', () => {
    const field = (apiName: string, dataType: FieldDef['dataType'], unique: boolean): FieldDef => ({
      id: apiName, apiName, label: apiName, dataType, length: 255, mandatory: false, unique, readOnly: false, lookupModule: null, picklistValues: [], isNameField: false,
    });
    const leads: ModuleDef = { id: '1', apiName: 'Leads', singularLabel: 'Lead', pluralLabel: 'Leads', custom: false, fields: [field('Last_Name', 'text', false), field('Email', 'email', true)] };
    const table = new PgRecordTable('rec_1', leads, new Set(), false);
    const plain = { ...batch([['Kent', 'k@x.io']]), columns: ['Last_Name', 'Email'] };
    const lined: RecordRows = { ...plain, lines: { bytes: new Uint8Array(Buffer.from('Kent:k@x.io')), starts: Int32Array.of(0), ends: Int32Array.of(11), delimiter: 0x3a } };
    expect(table.copyOf(lined)?.sql).toMatch(/ FROM STDIN \(DELIMITER ':'\)$/);
    expect(table.copyOf(plain)?.sql).toMatch(/ FROM STDIN$/);
    const updates = table.updatesOf(lined);
    expect(updates?.copy).toMatch(/ FROM STDIN$/);
    expect(decoded([...(updates?.data ?? [])])).toBe(decoded([...(table.updatesOf(plain)?.data ?? [])]));
  });

  it('takes pieces big enough for lines that escape every byte', () => {
    const line = '\\'.repeat(40_000);
    for (const d of [',', '.']) {
      const got = copyLines(withLines([[line, 'k']], [`${line}${d}k`], d, 1), [], [1]);
      const sep = d === ',' ? ',' : '\t';
      expect(parseCopyText(decoded(got), sep)).toEqual(parseCopyText(expected(batch([[line, 'k']]), [], [1]), '\t'));
    }
  });
});
