import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { CsvByteRecordReader } from '../../src/ingest/csv-byte-reader.js';
import { CsvRecordReader, CsvRecordTooLongError } from '../../src/ingest/csv-record-reader.js';
import { readCsvBatches, type CsvBatch } from '../../src/ingest/csv-source.js';

/** Reads text fed in chunks of `chunkSize` characters (the text reader) or UTF-8 bytes (the byte reader). */
type ReadAll = (text: string, delimiter?: string, chunkSize?: number) => string[][];

const readText: ReadAll = (text, delimiter = ',', chunkSize = text.length || 1) => {
  const reader = new CsvRecordReader(delimiter);
  const out: string[][] = [];
  for (let i = 0; i < text.length; i += chunkSize) reader.push(text.slice(i, i + chunkSize), out);
  return reader.end(out);
};

const readBytes: ReadAll = (text, delimiter = ',', chunkSize) => {
  const bytes = Buffer.from(text, 'utf8');
  const size = chunkSize ?? (bytes.length || 1);
  const reader = new CsvByteRecordReader(delimiter);
  const out: string[][] = [];
  for (let i = 0; i < bytes.length; i += size) reader.push(bytes.subarray(i, i + size), out);
  return reader.end(out);
};

/** A seeded generator, so a failure names a reproducible case. */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
}

const ALPHABET = ['a', 'b', 'Z', ' ', ',', ';', '"', '\n', '\r\n', 'é', '日本', '|', ':', "'"];

describe.each([
  ['CsvRecordReader', readText],
  ['CsvByteRecordReader', readBytes],
] as const)('%s', (_name, readAll: ReadAll) => {
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
});

describe.each([
  ['CsvRecordReader', (max: number) => { const r = new CsvRecordReader(',', max); return (s: string) => r.push(s); }],
  ['CsvByteRecordReader', (max: number) => { const r = new CsvByteRecordReader(',', max); return (s: string) => r.push(Buffer.from(s)); }],
] as const)('%s limits', (_name, reader) => {
  it('refuses a record that never ends instead of buffering the whole file', () => {
    const push = reader(1000);
    expect(() => {
      push('a,"an open quote\n');
      for (let i = 0; i < 100; i++) push(`${'x'.repeat(50)}\n`);
    }).toThrow(CsvRecordTooLongError);
  });
});

describe('CsvByteRecordReader', () => {
  it('agrees with the text reader on random bytes of quotes, delimiters and line breaks, split anywhere', () => {
    // Relaxed quotes (a quote inside a field, text after a closing quote) and lone CRs are where a
    // byte scanner could end a record elsewhere than the text reader; csv-parse does not write them.
    const rnd = random(7);
    const pieces = ['a', 'é', 'Ł', '日', ',', '"', '""', '\n', '\r', '\r\n', ' '];
    for (let file = 0; file < 500; file++) {
      const text = Array.from({ length: Math.floor(rnd() * 60) }, () => pieces[Math.floor(rnd() * pieces.length)]).join('');
      const size = 1 + Math.floor(rnd() * 12);
      expect(readBytes(text, ',', size), `file ${file}: ${JSON.stringify(text)} in ${size}-byte chunks`).toEqual(readText(text, ',', text.length || 1));
    }
  });

  it('drops a UTF-8 byte order mark, also when it arrives a byte at a time', () => {
    expect(readBytes('\uFEFFName,Email\nJosé,j@x.io\n', ',', 1)).toEqual([['Name', 'Email'], ['José', 'j@x.io']]);
    expect(readBytes('\uFEFFa')).toEqual([['a']]);
    expect(readBytes('ab')).toEqual([['ab']]);
  });

  it('decodes a character whose bytes arrive in different chunks', () => {
    expect(readBytes('Łukasz,日本\n', ',', 1)).toEqual([['Łukasz', '日本']]);
  });

  it('takes only an ASCII delimiter other than a quote or a line break', () => {
    expect(CsvByteRecordReader.supports(';')).toBe(true);
    expect(CsvByteRecordReader.supports('\t')).toBe(true);
    expect(CsvByteRecordReader.supports('§')).toBe(false);
    expect(CsvByteRecordReader.supports('"')).toBe(false);
  });
});

describe('readCsvBatches', () => {
  const csv = ['h1,h2', ...Array.from({ length: 23 }, (_, i) => `a${i},"b ${i}\nline"`)].join('\n');
  const batchesOf = async (skip: number, chunk: number, encoding = 'UTF-8'): Promise<string[][][]> => {
    const bytes = Buffer.from(csv, 'utf8');
    const pieces = Array.from({ length: Math.ceil(bytes.length / chunk) }, (_, i) => bytes.subarray(i * chunk, (i + 1) * chunk));
    const out: string[][][] = [];
    for await (const b of readCsvBatches(Readable.from(pieces), { encoding, delimiter: ',' }, 5, skip)) out.push(b);
    return out;
  };

  it.each([1, 7, 1000])('drops the skipped records before it cuts batches, so that each batch is a full one (chunks of %i bytes)', async (chunk) => {
    // UTF-8 is split on bytes, other encodings decoded first: both readers.
    for (const encoding of ['UTF-8', 'ISO-8859-1']) {
      // The header and the first 6 rows (a job resuming after 6 committed rows): batches start at row 6.
      const batches = await batchesOf(7, chunk, encoding);
      expect(batches.map((b) => b.length)).toEqual([5, 5, 5, 2]);
      expect(batches[0]?.[0]).toEqual(['a6', 'b 6\nline']);
      expect(batches.flat().map((r) => r[0])).toEqual(Array.from({ length: 17 }, (_, i) => `a${i + 6}`));
    }
  });

  it('yields nothing when the skip reaches past the last record, and everything in order when it is 0', async () => {
    expect(await batchesOf(24, 3)).toEqual([]);
    expect(await batchesOf(100, 3)).toEqual([]);
    const all = await batchesOf(0, 3);
    expect(all.map((b) => b.length)).toEqual([5, 5, 5, 5, 4]);
    expect(all[0]?.[0]).toEqual(['h1', 'h2']);
  });
});

describe('readCsvBatches with the records’ bytes (CsvBatch.recordBytes)', () => {
  /** Batches of a CSV fed in `chunk`-byte pieces, each record with the text its bytes decode to, or null. */
  const linesOf = async (bytes: Buffer, chunk: number, skip = 0, delimiter = ','): Promise<{ rows: string[][]; lines: (string | null)[] }[]> => {
    const pieces = Array.from({ length: Math.ceil(bytes.length / chunk) }, (_, i) => bytes.subarray(i * chunk, (i + 1) * chunk));
    const out: { rows: string[][]; lines: (string | null)[] }[] = [];
    for await (const b of readCsvBatches(Readable.from(pieces), { encoding: 'UTF-8', delimiter, recordBytes: true }, 4, skip)) {
      const raw = b.recordBytes;
      if (!raw) throw new Error('no record bytes');
      expect(raw.starts.length).toBe(b.length);
      out.push({ rows: b, lines: b.map((_, k) => ((raw.ends[k] as number) < 0 ? null : raw.bytes.subarray(raw.starts[k], raw.ends[k]).toString('utf8'))) });
      raw.release();
    }
    return out;
  };

  it.each([1, 3, 7, 64, 100_000])('gives each unquoted record its bytes, and none to a quoted one (chunks of %i bytes)', async (chunk) => {
    const csv = '\ufeffh1,h2\r\nZoë,1\r\n"q,uoted",2\r\n\r\nback\\slash\ttab,3\n日本,4\rlast,5\nx,"a\nb"\nend,6';
    const batches = await linesOf(Buffer.from(csv, 'utf8'), chunk);
    expect(batches.map((b) => b.rows.length)).toEqual([4, 4]);
    const all = batches.flatMap((b) => b.rows.map((row, k) => [row.join(','), b.lines[k]]));
    expect(all).toEqual([
      ['h1,h2', 'h1,h2'],
      ['Zoë,1', 'Zoë,1'],
      ['q,uoted,2', null],
      ['back\\slash\ttab,3', 'back\\slash\ttab,3'],
      ['日本,4', '日本,4'],
      ['last,5', 'last,5'],
      ['x,a\nb', null],
      ['end,6', 'end,6'],
    ]);
  });

  it('gives no bytes to a record that is not UTF-8, whose cells read U+FFFD', async () => {
    const bytes = Buffer.concat([Buffer.from('h\nok\nbad'), Buffer.from([0xff, 0xfe]), Buffer.from('\nfine\n')]);
    const [batch] = await linesOf(bytes, 5);
    expect(batch?.rows.map((r) => r[0])).toEqual(['h', 'ok', 'bad\ufffd\ufffd', 'fine']);
    expect(batch?.lines).toEqual(['h', 'ok', null, 'fine']);
  });

  it('keeps the bytes in step with the records past a skip (a resumed job) and across batches', async () => {
    const csv = ['h1;h2', ...Array.from({ length: 13 }, (_, i) => (i % 3 === 0 ? `"a;${i}";q` : `a${i};${'é'.repeat(i)}`))].join('\n');
    for (const chunk of [2, 9, 50]) {
      const batches = await linesOf(Buffer.from(csv, 'utf8'), chunk, 6, ';');
      expect(batches.map((b) => b.rows.length)).toEqual([4, 4]);
      for (const b of batches) b.rows.forEach((row, k) => expect(b.lines[k]).toBe(row[0]?.startsWith('a;') ? null : row.join(';')));
    }
  });

  it('gives the last, shorter batch its bytes too', async () => {
    const csv = ['h', ...Array.from({ length: 8 }, (_, i) => `r${i}`)].join('\n');
    const batches = await linesOf(Buffer.from(csv, 'utf8'), 3);
    expect(batches.map((b) => b.lines)).toEqual([['h', 'r0', 'r1', 'r2'], ['r3', 'r4', 'r5', 'r6'], ['r7']]);
  });

  it('keeps a batch’s bytes while it is held, after another was released (twice, even)', async () => {
    const csv = ['h', ...Array.from({ length: 40 }, (_, i) => `row ${i},${'x'.repeat(i)}`)].join('\n');
    const bytes = Buffer.from(csv, 'utf8');
    // Pieces that complete several records each: a batch is cut with records after it, whose bytes
    // move to another buffer (a released one when there is one).
    const pieces = Array.from({ length: Math.ceil(bytes.length / 50) }, (_, i) => bytes.subarray(i * 50, (i + 1) * 50));
    const held: CsvBatch[] = [];
    for await (const b of readCsvBatches(Readable.from(pieces), { encoding: 'UTF-8', delimiter: ',', recordBytes: true }, 4)) {
      held.push(b);
      // The first batch is done with: its buffer serves the batches after it, one of them only.
      if (held.length === 2) {
        held[0]?.recordBytes?.release();
        held[0]?.recordBytes?.release();
      }
    }
    const seen = held.slice(1).flatMap((b) => {
      const raw = b.recordBytes as NonNullable<CsvBatch['recordBytes']>;
      return b.map((_, k) => ((raw.ends[k] as number) < 0 ? null : raw.bytes.subarray(raw.starts[k], raw.ends[k]).toString('utf8')));
    });
    expect(seen).toEqual(csv.split('\n').slice(4));
  });

  it('uses again a batch’s buffer moved to another thread and handed back, and never one not handed back', async () => {
    const csv = ['h', ...Array.from({ length: 40 }, (_, i) => `row ${i},${'x'.repeat(i)}`)].join('\n');
    const bytes = Buffer.from(csv, 'utf8');
    const pieces = Array.from({ length: Math.ceil(bytes.length / 50) }, (_, i) => bytes.subarray(i * 50, (i + 1) * 50));
    const seen: (string | null)[] = [];
    let handedBack: ArrayBuffer | null = null;
    const buffers = new Set<ArrayBufferLike>();
    let n = 0;
    for await (const b of readCsvBatches(Readable.from(pieces), { encoding: 'UTF-8', delimiter: ',', recordBytes: true }, 4)) {
      const raw = b.recordBytes as NonNullable<CsvBatch['recordBytes']>;
      seen.push(...b.map((_, k) => ((raw.ends[k] as number) < 0 ? null : raw.bytes.subarray(raw.starts[k], raw.ends[k]).toString('utf8'))));
      buffers.add(raw.bytes.buffer);
      // Moved away as a commit thread takes it (the buffer here is detached), then handed back
      // (the first batch) or lost (the second, its thread died): release then does nothing more.
      const moved = structuredClone(raw.bytes.buffer as ArrayBuffer, { transfer: [raw.bytes.buffer as ArrayBuffer] });
      if (n++ === 0) {
        handedBack = moved;
        raw.giveBack(moved);
      }
      raw.release();
    }
    expect(seen).toEqual(csv.split('\n'));
    expect(handedBack).not.toBeNull();
    expect(buffers.has(handedBack as unknown as ArrayBufferLike)).toBe(true);
  });

  it('keeps no bytes for a file decoded before it is split (another encoding)', async () => {
    for await (const b of readCsvBatches(Readable.from([Buffer.from('h\na\n')]), { encoding: 'ISO-8859-1', delimiter: ',', recordBytes: true }, 4)) {
      expect(b.recordBytes).toBeUndefined();
    }
  });
});
