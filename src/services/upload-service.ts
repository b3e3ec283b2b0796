import type { Readable } from 'node:stream';
import { Errors, ZohoError } from '../domain/errors.js';
import type { Limits } from '../domain/limits.js';
import { formatZohoTime } from '../domain/time.js';
import { inspectUpload, looksLikeZip } from '../ingest/upload-inspector.js';
import { BlobTooLargeError, type BlobStore } from '../ports/blob-store.js';
import type { Store, UploadedFile } from '../ports/store.js';
import type { Principal } from './principal.js';

export interface UploadOptions {
  readonly limits: Limits;
  /** HTTP status of upload errors Zoho answers with 200 (INVALID_FILE_FORMAT; CONTRACT.md). */
  readonly uploadErrorStatus: number;
}

/**
 * Streams an upload to the blob store, then keeps it only if it is a zip with one usable CSV.
 * A refused upload leaves nothing behind.
 */
export class UploadService {
  constructor(
    private readonly store: Store,
    private readonly blobs: BlobStore,
    private readonly options: UploadOptions,
  ) {}

  async upload(principal: Principal, body: Readable, uploadName: string): Promise<UploadedFile> {
    const org = await this.store.getOrg(principal.orgId);
    if (!org) throw Errors.invalidToken();
    const [fileId] = (await this.store.allocateIds(1)) as [string];
    const blobKey = `uploads/${fileId}.zip`;
    const createdTime = new Date();
    try {
      let written;
      try {
        written = await this.blobs.write(blobKey, body, this.options.limits.maxZipBytes);
      } catch (e) {
        if (e instanceof BlobTooLargeError) throw Errors.fileTooLarge(this.options.limits.maxZipBytes);
        throw e;
      }
      const head = await readFirstBytes(this.blobs, blobKey, written.size);
      if (!looksLikeZip(head)) {
        throw Errors.invalidFileFormat(this.options.uploadErrorStatus, formatZohoTime(createdTime, org.timeZone));
      }
      const csv = await inspectUpload(this.blobs, blobKey, written.size, this.options.limits);
      const file: UploadedFile = {
        id: fileId,
        orgId: org.id,
        userId: principal.userId,
        blobKey,
        size: written.size,
        sha256: written.sha256,
        uploadName,
        csvName: csv.csvName,
        header: csv.header,
        delimiter: csv.delimiter,
        encoding: csv.encoding,
        createdTime,
      };
      await this.store.saveFile(file);
      return file;
    } catch (e) {
      await this.blobs.delete(blobKey);
      if (e instanceof ZohoError && e.code === 'FILE_NOT_SUPPORTED') {
        throw new ZohoError(e.httpStatus, e.code, e.message, { ...e.details, created_time: formatZohoTime(createdTime, org.timeZone) });
      }
      throw e;
    }
  }
}

async function readFirstBytes(blobs: BlobStore, key: string, size: number): Promise<Buffer> {
  if (size === 0) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  for await (const c of blobs.createReadStream(key, { start: 0, end: Math.min(size, 4) - 1 })) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
