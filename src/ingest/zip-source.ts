import { pipeline, Readable, Transform, type TransformCallback } from 'node:stream';
import { createInflateRaw } from 'node:zlib';
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
  /**
   * @param chunkBytes size of the inflated chunks (zlib's default is 16 KB): an import reads its
   * entry in 128 KB chunks, eight times fewer trips through the stream machinery per file.
   */
  openEntry(entry: ZipEntryRef, chunkBytes?: number): Promise<Readable>;
  close(): void;
}

const ZLIB_CHUNK = 16 * 1024;
const DEFLATE = 8;

/** Fails a stream that yields more or fewer bytes than the zip's directory says the entry holds. */
class SizeCheck extends Transform {
  private seen = 0;

  constructor(
    private readonly expected: number,
    private readonly name: string,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.seen += chunk.length;
    // As soon as it is too long: an entry whose header lies about its size is not inflated further.
    if (this.seen > this.expected) done(new Error(`zip entry ${this.name} is larger than its declared ${this.expected} bytes`));
    else done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    done(this.seen === this.expected ? null : new Error(`zip entry ${this.name} holds ${this.seen} bytes, not its declared ${this.expected}`));
  }
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
    openEntry: async (ref, chunkBytes = ZLIB_CHUNK) => {
      if (chunkBytes <= ZLIB_CHUNK || ref.entry.compressionMethod !== DEFLATE || ref.entry.isEncrypted()) return zip.openReadStreamPromise(ref.entry);
      // yauzl inflates with zlib's default chunk; inflating its raw stream here chooses the chunk.
      const raw = await zip.openReadStreamPromise(ref.entry, { decodeFileData: false });
      const out = new SizeCheck(ref.entry.uncompressedSize, ref.name);
      // Destroying `out` (a reader that stops early) tears the whole chain down; the error is the reader's to see.
      pipeline(raw, createInflateRaw({ chunkSize: chunkBytes }), out, () => undefined);
      return out;
    },
    close: () => zip.close(),
  };
}

export function isCsvName(name: string): boolean {
  return name.toLowerCase().endsWith('.csv');
}
