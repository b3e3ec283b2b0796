import { createHash } from 'node:crypto';
import { constants, createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BlobTooLargeError, type BlobStore, type BlobWriteResult } from '../../ports/blob-store.js';

/** Blobs as files under one directory; writes land in a temp file and are renamed into place. */
export class FsBlobStore implements BlobStore {
  constructor(private readonly root: string) {}

  private pathOf(key: string): string {
    const resolved = path.resolve(this.root, key);
    if (!resolved.startsWith(path.resolve(this.root) + path.sep)) throw new Error(`blob key ${key} escapes the blob root`);
    return resolved;
  }

  async write(key: string, source: Readable, maxBytes = Number.MAX_SAFE_INTEGER): Promise<BlobWriteResult> {
    const target = this.pathOf(key);
    const created = await mkdir(path.dirname(target), { recursive: true });
    const temp = `${target}.${process.pid}.${Date.now()}.part`;
    const hash = createHash('sha256');
    let size = 0;
    const meter = new Transform({
      highWaterMark: 1 << 20,
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (size > maxBytes) return done(new BlobTooLargeError(maxBytes));
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(source, meter, createWriteStream(temp, { highWaterMark: 1 << 20 }));
      // The content is on disk before a name (and a row of the store) points at it.
      await syncFile(temp);
      await rename(temp, target);
      // The new name, and each directory made for it, in the directory that holds it.
      const top = path.dirname(created ?? target);
      for (let dir = path.dirname(target); ; dir = path.dirname(dir)) {
        await syncFile(dir);
        if (dir === top || dir === path.dirname(dir)) break;
      }
    } catch (e) {
      await rm(temp, { force: true });
      throw e;
    }
    return { size, sha256: hash.digest('hex') };
  }

  createReadStream(key: string, range?: { start: number; end: number }): Readable {
    return createReadStream(this.pathOf(key), range ? { start: range.start, end: range.end } : {});
  }

  async size(key: string): Promise<number | null> {
    try {
      return (await stat(this.pathOf(key))).size;
    } catch {
      return null;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }
}

async function syncFile(file: string): Promise<void> {
  const handle = await open(file, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
