import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { describe, expect, it } from 'vitest';
import { CsvRecordReader, CsvRecordTooLongError } from '../../src/ingest/csv-record-reader.js';

function readAll(text: string, delimiter = ',', chunkSize = text.length || 1): string[][] {
  const reader = new CsvRecordReader(delimiter);
  const out: string[][] = [];
  for (let i = 0; i < text.length; i += chunkSize) reader.push(text.slice(i, i + chunkSize), out);
  return reader.end(out);
}

/** A seeded generator, so a failure names a reproducible case. */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
}

const ALPHABET = ['a', 'b', 'Z', ' ', ',', ';', '"', '\n', '\r\n', 'é', '日本', '|', ':', "'"];

describe('CsvRecordReader', () => {
  it('splits plain records, with CRLF, LF or CR line ends', () => {
    expect(readAll('a,b\r\nc,d\ne,f\rg,h')).toEqual([['a', 'b'], ['c', 'd'], ['e', 'f'], ['g', 'h']]);
  });

  it('keeps delimiters, newlines and doubled quotes inside quoted fields', () => {
    expect(readAll('"a,b","line1\nline2","say ""hi"""\n')).toEqual([['a,b', 'line1\nline2', 'say "hi"']]);
  });

  it('keeps empty fields, including a trailing one', () => {
    expect(readAll(',a,,\n')).toEqual([['', 'a', '', '']]);
    expect(readAll('a,')).toEqual([['a', '']]);
  });

  it('skips blank lines', () => {
    expect(readAll('a\n\n\r\nb\n')).toEqual([['a'], ['b']]);
  });

  it('keeps a line holding only a quoted empty field, a record of one empty value', () => {
    expect(readAll('Last_Name\n""\nBoyle\n')).toEqual([['Last_Name'], [''], ['Boyle']]);
  });

  it('keeps a quote inside an unquoted field as text', () => {
    expect(readAll('5" screen,x\n')).toEqual([['5" screen', 'x']]);
  });

  it('reads records split at every possible chunk boundary', () => {
    const text = '"q,1","a""b"\r\nplain,"multi\nline"\r\nx,y';
    for (let size = 1; size <= text.length; size++) expect(readAll(text, ',', size)).toEqual([['q,1', 'a"b'], ['plain', 'multi\nline'], ['x', 'y']]);
  });

  it('honours other delimiters', () => {
    expect(readAll('a;"b;c"|d\n', ';')).toEqual([['a', 'b;c|d']]);
    expect(readAll('a|b\n', '|')).toEqual([['a', 'b']]);
  });

  it('agrees with csv-parse on 300 generated files', () => {
    const rnd = random(42);
    for (let file = 0; file < 300; file++) {
      const rows = Array.from({ length: 1 + Math.floor(rnd() * 20) }, () =>
        Array.from({ length: 1 + Math.floor(rnd() * 6) }, () =>
          Array.from({ length: Math.floor(rnd() * 8) }, () => ALPHABET[Math.floor(rnd() * ALPHABET.length)]).join('')),
      ).filter((r) => !(r.length === 1 && r[0] === ''));
      const delimiter = [',', ';', '|'][file % 3] as string;
      // Quote every field with a line break: csv-stringify leaves a bare LF unquoted in a CRLF file, which
      // csv-parse then reads as data while RFC 4180 readers (this one) end the record there.
      const text = stringify(rows, { delimiter, record_delimiter: file % 2 ? 'windows' : 'unix', quoted_match: /[\r\n]/ });
      const expected = parse(text, { delimiter, relax_column_count: true, skip_empty_lines: true }) as string[][];
      expect(readAll(text, delimiter, 1 + Math.floor(rnd() * 40)), `file ${file}`).toEqual(expected);
    }
  });

  it('refuses a record that never ends instead of buffering the whole file', () => {
    const reader = new CsvRecordReader(',', 1000);
    expect(() => {
      reader.push('a,"an open quote\n');
      for (let i = 0; i < 100; i++) reader.push(`${'x'.repeat(50)}\n`);
    }).toThrow(CsvRecordTooLongError);
  });
});
