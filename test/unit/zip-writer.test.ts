import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import yauzl from 'yauzl';
import { describe, expect, it } from 'vitest';
import { deflateResultLines } from '../../src/ingest/result-file.js';
import { crc32Combine } from '../../src/ingest/crc32-combine.js';
import { storedZipLayout, zipStream, type ZipWriterEntry, type ZipWriterOptions } from '../../src/ingest/zip-writer.js';
import type { DeflatedLines } from '../../src/ports/store.js';

async function zipOf(entries: readonly ZipWriterEntry[], options?: ZipWriterOptions): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of zipStream(entries, options)) parts.push(part);
  return Buffer.concat(parts);
}

const entry = (name: string, content: Buffer, chunk = 7_000): ZipWriterEntry => ({
  name,
  size: content.length,
  open: () => Readable.from((function* () {
    for (let at = 0; at < content.length; at += chunk) yield content.subarray(at, at + chunk);
  })()),
});

/** Each entry as yauzl reads it: name, content, the CRC-32 the zip records, and whether it used Zip64 sizes. */
function read(zip: Buffer): Promise<{ name: string; content: Buffer; crc: number; zip64: boolean }[]> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(zip, { lazyEntries: true, validateEntrySizes: true }, (err, file) => {
      if (err || !file) return reject(err ?? new Error('no zip'));
      const out: { name: string; content: Buffer; crc: number; zip64: boolean }[] = [];
      file.on('entry', (e: yauzl.Entry) => {
        file.openReadStream(e, (se, stream) => {
          if (se || !stream) return reject(se ?? new Error('no stream'));
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('error', reject);
          stream.on('end', () => {
            out.push({ name: e.fileName, content: Buffer.concat(chunks), crc: e.crc32, zip64: e.extraFields.some((f) => f.id === 0x0001) });
            file.readEntry();
          });
        });
      });
      file.on('end', () => resolve(out));
      file.on('error', reject);
      file.readEntry();
    });
  });
}

/** Info-ZIP's own check of every entry's CRC and sizes, where the machine has it. */
function unzipTest(zip: Buffer): string | null {
  if (!existsSync('/usr/bin/unzip')) return null;
  const dir = mkdtempSync(path.join(tmpdir(), 'bulkwright-zip-'));
  try {
    writeFileSync(path.join(dir, 'a.zip'), zip);
    return execFileSync('/usr/bin/unzip', ['-t', path.join(dir, 'a.zip')], { encoding: 'utf8' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const csv = (rows: number): Buffer => Buffer.from(Array.from({ length: rows }, (_, i) => `Row ${i},Łukasz ${i},ADDED,${5725767000001000000 + i},\n`).join(''), 'utf8');

describe('zipStream', () => {
  it('writes entries that readers take back byte for byte, with their CRC-32', async () => {
    const files = [entry('Leads-leads.csv', csv(20_000)), entry('Contacts-ünïcode.csv', csv(3)), entry('empty.csv', Buffer.alloc(0))];
    const contents = [csv(20_000), csv(3), Buffer.alloc(0)];
    const zip = await zipOf(files);
    const back = await read(zip);
    expect(back.map((b) => b.name)).toEqual(['Leads-leads.csv', 'Contacts-ünïcode.csv', 'empty.csv']);
    back.forEach((b, i) => {
      expect(b.content.equals(contents[i] as Buffer)).toBe(true);
      expect(b.crc).toBe(crc32(contents[i] as Buffer));
      expect(b.zip64).toBe(false);
    });
    // Deflated, not stored.
    expect(zip.length).toBeLessThan(contents[0]!.length / 3);
    const tested = unzipTest(zip);
    if (tested !== null) expect(tested).toMatch(/No errors detected/);
  });

  it('deflates an entry of many pieces, of every size around the piece length, into one stream readers take whole', async () => {
    const piece = 1024 * 1024;
    const big = csv(120_000); // ~5.6 MB: five pieces and a bit, deflated several at once
    const sizes = [piece - 1, piece, piece + 1, 2 * piece, big.length];
    const zip = await zipOf(sizes.map((n, i) => entry(`part${i}.csv`, big.subarray(0, n), 65_536)));
    const back = await read(zip);
    back.forEach((b, i) => {
      const content = big.subarray(0, sizes[i]);
      expect(b.content.equals(content)).toBe(true);
      expect(b.crc).toBe(crc32(content));
    });
    const tested = unzipTest(zip);
    if (tested !== null) expect(tested).toMatch(/No errors detected/);
  });

  it('copies parts deflated beforehand into the entry between raw ones, with the CRC-32 of the whole', async () => {
    const content = csv(30_000);
    // Cut where a job's batches would end, some kept raw (a header, an earlier version's lines).
    const cuts = [0, 45, 70_000, 70_001, 400_000, 1_200_000, 1_300_000, content.length];
    const parts: (Buffer | DeflatedLines)[] = [];
    for (let i = 0; i + 1 < cuts.length; i++) {
      const piece = content.subarray(cuts[i], cuts[i + 1]);
      parts.push(i === 0 || i === 4 ? piece : await deflateResultLines(piece));
    }
    parts.push(await deflateResultLines(Buffer.alloc(0)));
    const zip = await zipOf([
      { name: 'mixed.csv', size: content.length, open: () => Readable.from(parts, { objectMode: true }) },
      { name: 'deflated.csv', size: content.length, open: async function* () { yield await deflateResultLines(content); } },
    ]);
    const back = await read(zip);
    for (const b of back) {
      expect(b.content.equals(content)).toBe(true);
      expect(b.crc).toBe(crc32(content));
    }
    const tested = unzipTest(zip);
    if (tested !== null) expect(tested).toMatch(/No errors detected/);
  });

  it('writes the Zip64 records that entries and offsets past 4 GB need, which readers take', async () => {
    const content = csv(5_000);
    const zip = await zipOf([entry('a.csv', content), entry('b.csv', content)], { forceZip64: true });
    const back = await read(zip);
    expect(back.map((b) => [b.name, b.zip64, b.content.equals(content), b.crc === crc32(content)])).toEqual([
      ['a.csv', true, true, true],
      ['b.csv', true, true, true],
    ]);
    // The Zip64 end record and its locator precede the classic end record.
    expect(zip.indexOf(Buffer.from([0x50, 0x4b, 0x06, 0x06]))).toBeGreaterThan(0);
    expect(zip.indexOf(Buffer.from([0x50, 0x4b, 0x06, 0x07]))).toBeGreaterThan(0);
    const tested = unzipTest(zip);
    if (tested !== null) expect(tested).toMatch(/No errors detected/);
  });

  it("releases an entry's source when the zip's reader stops early (its write failed), without waiting on it", async () => {
    const noise = randomBytes(8 * 1024 * 1024);
    const source = Readable.from((function* () {
      for (let at = 0; at < noise.length; at += 65_536) yield noise.subarray(at, at + 65_536);
    })());
    const closed = new Promise<void>((resolve) => source.once('close', resolve));
    const zip = zipStream([{ name: 'big.csv', size: noise.length, open: () => source }])[Symbol.asyncIterator]();
    await zip.next(); // the local header
    await zip.next(); // the first deflated bytes
    await zip.return(undefined);
    await closed;
    expect(source.destroyed).toBe(true);
  });

  it('fails when an entry holds other than the bytes announced', async () => {
    const short = { ...entry('short.csv', csv(10)), size: csv(10).length + 1 };
    await expect(zipOf([short])).rejects.toThrow(/held \d+ bytes, not the \d+ announced/);
  });

  it('fails with the error of a source that fails midway', async () => {
    const failing: ZipWriterEntry = {
      name: 'broken.csv',
      size: 100_000,
      open: () => Readable.from((async function* () {
        yield Buffer.alloc(10_000, 0x61);
        throw new Error('result lines from byte 10000 are missing');
      })()),
    };
    await expect(zipOf([failing])).rejects.toThrow('result lines from byte 10000 are missing');
  });
});

describe('storedZipLayout', () => {
  /** Entries of lines deflated in parts, as batches commit them: their parts and the whole CSV. */
  async function storedEntries(): Promise<{ name: string; parts: DeflatedLines[]; content: Buffer }[]> {
    const of = async (name: string, pieces: readonly Buffer[]) => ({
      name, parts: await Promise.all(pieces.map((p) => deflateResultLines(p))), content: Buffer.concat(pieces),
    });
    return [
      await of('Leads-leads.csv', [Buffer.from('First_Name,STATUS\n'), csv(4_000), csv(1), csv(2_500)]),
      await of('Contacts-ünïcode.csv', [Buffer.from('Last_Name,STATUS\n')]),
      await of('Deals-none.csv', []),
    ];
  }

  /** The layout with each entry's stored streams put in its place, as the store joins them. */
  function joined(layout: readonly (Buffer | number)[], entries: readonly { parts: readonly DeflatedLines[] }[]): Buffer {
    return Buffer.concat(layout.flatMap((p) => (typeof p === 'number' ? (entries[p]?.parts ?? []).map((d) => Buffer.from(d.deflated)) : [p])));
  }

  const figures = (e: { name: string; parts: readonly DeflatedLines[] }) => ({
    name: e.name,
    size: e.parts.reduce((n, d) => n + d.rawBytes, 0),
    crc: e.parts.reduce((c, d) => crc32Combine(c, d.crc, d.rawBytes), 0),
    deflatedBytes: e.parts.reduce((n, d) => n + d.deflated.byteLength, 0),
  });

  it.each([false, true])('joined with the stored streams, is the zip zipStream writes of the same parts, byte for byte (Zip64: %s)', async (forceZip64) => {
    const entries = await storedEntries();
    const modified = new Date(2026, 11, 5, 8, 30, 12);
    const streamed = await zipOf(entries.map((e) => ({ name: e.name, size: e.content.length, open: () => Readable.from(e.parts) })), { modified, forceZip64 });
    const layout = storedZipLayout(entries.map(figures), { modified, forceZip64 });
    // The entries' data is left to the store: only headers, trailers and the directory are here.
    expect(layout.filter((p) => typeof p === 'number')).toEqual([0, 1, 2]);
    const zip = joined(layout, entries);
    expect(zip.equals(streamed)).toBe(true);
    const back = await read(zip);
    expect(back.map((b) => [b.name, b.content.toString('utf8'), b.crc, b.zip64])).toEqual(entries.map((e) => [e.name, e.content.toString('utf8'), crc32(e.content), forceZip64]));
    const tested = unzipTest(zip);
    if (tested !== null) expect(tested).toMatch(/No errors detected/);
  });
});
