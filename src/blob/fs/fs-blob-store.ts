import { createHash } from 'node:crypto';
import { constants, createReadStream, createWriteStream, writeSync } from 'node:fs';
import { mkdir, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BlobShorterError, BlobTooLargeError, type BlobAppender, type BlobStore, type BlobWriteResult } from '../../ports/blob-store.js';

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
    await mkdir(path.dirname(target), { recursive: true });
    const temp = `${target}.${process.pid}.${Date.now()}.part`;
    const hash = createHash('sha256');
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (size > maxBytes) return done(new BlobTooLargeError(maxBytes));
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(source, meter, createWriteStream(temp));
      // The content is on disk before a name (and a row of the store) points at it.
      await syncFile(temp);
      await rename(temp, target);
      await syncFile(path.dirname(target));
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

  async openAppender(key: string, truncateTo: number): Promise<BlobAppender> {
    const target = this.pathOf(key);
    await mkdir(path.dirname(target), { recursive: true });
    // Positional writes, not O_APPEND: Linux ignores the position of writes to an append-mode file.
    const handle = await open(target, constants.O_RDWR | constants.O_CREAT);
    try {
      const { size } = await handle.stat();
      if (size < truncateTo) throw new BlobShorterError(key, size, truncateTo);
      await handle.truncate(truncateTo);
      // A new file's name is durable before a checkpoint counts bytes in it.
      if (size === 0) await syncFile(path.dirname(target));
    } catch (e) {
      await handle.close();
      throw e;
    }
    return new FsAppender(handle, truncateTo);
  }
}

class FsAppender implements BlobAppender {
  constructor(
    private readonly handle: FileHandle,
    private bytes: number,
  ) {}

  get size(): number {
    return this.bytes;
  }

  /**
   * Written synchronously: a result chunk is a few hundred KB into the page cache, and awaiting the
   * thread pool for it left the job idle between batches (measured in bench/).
   */
  async append(chunk: Buffer): Promise<void> {
    let written = 0;
    while (written < chunk.length) written += writeSync(this.handle.fd, chunk, written, chunk.length - written, this.bytes + written);
    this.bytes += chunk.length;
  }

  /**
   * fdatasync on the thread pool, while the job thread validates the next batch. On ext4 it also
   * flushes what the store wrote since (data=ordered): about 5-10% of a SQLite insert's rate in
   * bench/, the price of a checkpoint that never counts lines a crash of the machine lost.
   */
  async sync(): Promise<void> {
    await this.handle.datasync();
  }

  async close(): Promise<void> {
    await this.handle.close();
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
