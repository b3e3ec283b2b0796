import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readCsvBatches } from '../../src/ingest/csv-source.js';

/** The batches of `csv` read in `chunk`-byte pieces, 2 records each, past the header: their rows with U+0000. */
async function nulRowsOf(csv: Buffer, encoding: string, chunk: number): Promise<number[][]> {
  const pieces: Buffer[] = [];
  for (let at = 0; at < csv.length; at += chunk) pieces.push(csv.subarray(at, at + chunk));
  const out: number[][] = [];
  for await (const batch of readCsvBatches(Readable.from(pieces), { encoding, delimiter: ',', recordBytes: true }, 2, 1)) {
    out.push([...(batch.nulRows ?? [])]);
  }
  return out;
}

describe('records holding U+0000', () => {
  // The header, then records 0–4: 1 holds a NUL in an unquoted cell, 4 in a quoted one.
  const text = 'A,B\na,b\nc\u0000,d\ne,f\ng,h\ni,"j\u0000\nk"\n';

  for (const [encoding, chunk] of [['UTF-8', 5], ['UTF-8', 1024], ['ISO-8859-1', 3], ['ISO-8859-1', 1024]] as const) {
    it(`are marked in their batches, whichever chunk their zero byte came in (${encoding}, ${chunk}-byte chunks)`, async () => {
      expect(await nulRowsOf(Buffer.from(text, encoding === 'UTF-8' ? 'utf8' : 'latin1'), encoding, chunk)).toEqual([[1], [], [0]]);
    });
  }

  it('are marked when the last record, holding one, ends with the file rather than a line break', async () => {
    expect(await nulRowsOf(Buffer.from('A,B\na,b\nc,d\u0000'), 'UTF-8', 1024)).toEqual([[1]]);
  });

  it('are not looked for in a file without a zero byte', async () => {
    expect(await nulRowsOf(Buffer.from('A,B\na,b\nc,d\ne,f\n'), 'UTF-8', 4)).toEqual([[], []]);
  });

  it('are dropped from the marks when skipped as rows a previous run committed', async () => {
    const pieces = [Buffer.from('A,B\na\u0000,b\nc,d\ne\u0000,f\n')];
    const batches = [];
    for await (const batch of readCsvBatches(Readable.from(pieces), { encoding: 'UTF-8', delimiter: ',' }, 1, 2)) batches.push([...(batch.nulRows ?? [])]);
    expect(batches).toEqual([[], [0]]);
  });
});
