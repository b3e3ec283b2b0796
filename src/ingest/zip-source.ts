import { Readable } from 'node:stream';
import yauzl from 'yauzl';
import type { BlobStore } from '../ports/blob-store.js';

/** Lets yauzl read a zip's central directory and entries by range, from any BlobStore. */
class BlobRangeReader extends yauzl.RandomAccessReader {
  constructor(
    private readonly blobs: BlobStore,
    private readonly key: string,
  ) {
    super();
  }

  override _readStreamForRange(start: number, end: number): Readable {
    if (end <= start) return Readable.from([]);
    return this.blobs.createReadStream(this.key, { start, end: end - 1 });
  }
}

export interface ZipEntryRef {
  readonly name: string;
  readonly uncompressedSize: number;
  readonly entry: yauzl.Entry;
}

export interface OpenZip {
  readonly entries: readonly ZipEntryRef[];
  openEntry(entry: ZipEntryRef): Promise<Readable>;
  close(): void;
}

/** More entries than a bulk-write zip has any use for: listing them all would be work for an attacker. */
export const MAX_ZIP_ENTRIES = 1000;

export class TooManyZipEntriesError extends Error {}

/** Opens a zip blob and lists its file entries (directories and macOS resource forks left out). */
export async function openZipBlob(blobs: BlobStore, key: string, size: number): Promise<OpenZip> {
  const zip = await yauzl.fromRandomAccessReaderPromise(new BlobRangeReader(blobs, key), size, {
    lazyEntries: true,
    autoClose: false,
    decodeStrings: true,
    validateEntrySizes: true,
  });
  const entries: ZipEntryRef[] = [];
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (entry: yauzl.Entry) => {
      if (entries.length >= MAX_ZIP_ENTRIES) {
        zip.close();
        reject(new TooManyZipEntriesError(`the zip file holds more than ${MAX_ZIP_ENTRIES} files`));
        return;
      }
      const name = entry.fileName;
      const base = name.split('/').pop() ?? name;
      if (!name.endsWith('/') && !name.startsWith('__MACOSX/') && !base.startsWith('._')) {
        entries.push({ name, uncompressedSize: entry.uncompressedSize, entry });
      }
      zip.readEntry();
    });
    zip.once('end', () => resolve());
    zip.once('error', reject);
    zip.readEntry();
  });
  return {
    entries,
    openEntry: (ref) => zip.openReadStreamPromise(ref.entry),
    close: () => zip.close(),
  };
}

export function isCsvName(name: string): boolean {
  return name.toLowerCase().endsWith('.csv');
}
