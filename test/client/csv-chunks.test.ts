import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CsvInputError, detectDelimiter, splitCsv } from '@bulkwright/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'bulkwright-chunks-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function split(bytes: Buffer, rowLimit: number, name = 'in.csv') {
  const file = path.join(dir, name);
  await writeFile(file, bytes);
  const out = await splitCsv(file, dir, { rowLimit, name });
  const texts = await Promise.all(out.chunks.map((c) => readFile(c.path)));
  return { ...out, texts };
}

describe('splitCsv', () => {
  it('counts a quoted line break as part of one row and copies every row byte for byte', async () => {
    const input = Buffer.from('Last_Name,Note\r\nA,"one\r\ntwo"\r\nB,"say ""hi"""\r\nC,x\r\n', 'utf8');
    const out = await split(input, 2);
    expect(out.totalRows).toBe(3);
    expect(out.chunks.map((c) => [c.name, c.firstRow, c.rows])).toEqual([['in-part1.csv', 1, 2], ['in-part2.csv', 3, 1]]);
    expect(out.texts.map((t) => t.toString('utf8'))).toEqual([
      'Last_Name,Note\r\nA,"one\r\ntwo"\r\nB,"say ""hi"""\r\n',
      'Last_Name,Note\r\nC,x\r\n',
    ]);
  });

  it('keeps the input name when one job is enough, and a last row without a line break', async () => {
    const out = await split(Buffer.from('Last_Name\nA\nB', 'utf8'), 25_000, 'leads.csv');
    expect(out.chunks.map((c) => [c.name, c.rows])).toEqual([['leads.csv', 2]]);
    expect(out.texts[0]?.toString('utf8')).toBe('Last_Name\nA\nB');
  });

  it('skips blank lines as the server does, so row numbers match the result file', async () => {
    const out = await split(Buffer.from('Last_Name\n\nA\n\n\nB\n', 'utf8'), 1);
    expect(out.totalRows).toBe(2);
    expect(out.chunks.map((c) => c.firstRow)).toEqual([1, 2]);
  });

  it('repeats a UTF-8 BOM and the header in every part, and reads the header as UTF-8', async () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    const out = await split(Buffer.concat([bom, Buffer.from('Nom;Prénom\r\nA;É\r\nB;Ö\r\n', 'utf8')]), 1);
    expect(out.header).toEqual(['Nom', 'Prénom']);
    expect(out.delimiter).toBe(';');
    expect(out.texts.map((t) => t.toString('utf8'))).toEqual(['\uFEFFNom;Prénom\r\nA;É\r\n', '\uFEFFNom;Prénom\r\nB;Ö\r\n']);
  });

  it('re-encodes UTF-16 as UTF-8 with a BOM, so it can be split by bytes', async () => {
    const text = 'Last_Name,City\r\nÅse,Malmö\r\nZoë,"Köln\r\nAltstadt"\r\n';
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    const out = await split(utf16, 1);
    expect(out.totalRows).toBe(2);
    expect(out.texts.map((t) => t.toString('utf8'))).toEqual([
      '\uFEFFLast_Name,City\r\nÅse,Malmö\r\n',
      '\uFEFFLast_Name,City\r\nZoë,"Köln\r\nAltstadt"\r\n',
    ]);
  });

  it('refuses an empty file and a header without rows', async () => {
    await expect(split(Buffer.alloc(0), 10)).rejects.toThrow(CsvInputError);
    await expect(split(Buffer.from('Last_Name\r\n'), 10)).rejects.toThrow(/has a header but no data rows/);
  });

  it('detects the delimiter from the header line outside quotes, comma on a tie', () => {
    expect(detectDelimiter('a;b;c\n1,2,3,4,5')).toBe(';');
    expect(detectDelimiter('"a,b,c"|d|e\n')).toBe('|');
    expect(detectDelimiter('a:b,c\n')).toBe(',');
  });
});
