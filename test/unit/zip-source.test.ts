import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../src/blob/fs/fs-blob-store.js';
import { openZipBlob, type OpenZip } from '../../src/ingest/zip-source.js';
import { zipCsv } from '../support/zip.js';

/** ~1.4 MB of CSV, compressible but not trivially (a row number and a varying tail). */
const CSV = Buffer.from(
  Array.from({ length: 20_000 }, (_, i) => `${i},Name ${i % 97},user${i}@example.com,${'x'.repeat(i % 23)}\n`).join(''),
  'utf8',
);

let dir: string;
let blobs: FsBlobStore;
let open: OpenZip[];

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'bulkwright-zip-'));
  blobs = new FsBlobStore(dir);
  open = [];
});

afterEach(async () => {
  for (const z of open) z.close();
  await rm(dir, { recursive: true, force: true });
});

async function openZip(zip: Buffer): Promise<OpenZip> {
  const { size } = await blobs.write('uploads/test.zip', Readable.from([zip]));
  const z = await openZipBlob(blobs, 'uploads/test.zip', size);
  open.push(z);
  return z;
}

async function chunksOf(s: Readable): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const c of s as AsyncIterable<Buffer>) out.push(c);
  return out;
}

/** The zip with the uncompressed size its central directory gives the (only) entry replaced. */
function withDeclaredSize(zip: Buffer, size: number): Buffer {
  const copy = Buffer.from(zip);
  const at = copy.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  copy.writeUInt32LE(size, at + 24);
  return copy;
}

describe('zip entries', () => {
  it('inflates an entry in the chunk size asked for, to the same bytes as the default', async () => {
    const z = await openZip(await zipCsv('leads.csv', CSV));
    const entry = z.entries[0];
    if (!entry) throw new Error('no entry');
    const big = await chunksOf(await z.openEntry(entry, 256 * 1024));
    const small = await chunksOf(await z.openEntry(entry));
    expect(Buffer.concat(big).equals(CSV)).toBe(true);
    expect(Buffer.concat(small).equals(CSV)).toBe(true);
    expect(Math.max(...big.map((c) => c.length))).toBeGreaterThan(16 * 1024);
    expect(Math.max(...small.map((c) => c.length))).toBeLessThanOrEqual(16 * 1024);
  });

  it('fails an entry that inflates to more than its declared size, and one that inflates to less', async () => {
    const zip = await zipCsv('leads.csv', CSV);
    for (const [declared, message] of [
      [CSV.length - 10, /larger than its declared/],
      [CSV.length + 10, /holds \d+ bytes, not its declared/],
    ] as const) {
      const z = await openZip(withDeclaredSize(zip, declared));
      const entry = z.entries[0];
      if (!entry) throw new Error('no entry');
      await expect(chunksOf(await z.openEntry(entry, 256 * 1024))).rejects.toThrow(message);
    }
  });

  it('lets a reader stop early without an unhandled error', async () => {
    const z = await openZip(await zipCsv('leads.csv', CSV));
    const entry = z.entries[0];
    if (!entry) throw new Error('no entry');
    const stream = await z.openEntry(entry, 256 * 1024);
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      expect(chunk.length).toBeGreaterThan(0);
      break;
    }
    expect(stream.destroyed).toBe(true);
  });
});
