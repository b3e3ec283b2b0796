import type { Readable } from 'node:stream';

export interface BlobWriteResult {
  readonly size: number;
  readonly sha256: string;
}

/** Thrown by BlobStore.write when the source is longer than maxBytes; nothing is kept. */
export class BlobTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`blob larger than ${limit} bytes`);
    this.name = 'BlobTooLargeError';
  }
}

/** Uploaded zips and result files. Keys are relative paths such as `uploads/<id>.zip`. */
export interface BlobStore {
  write(key: string, source: Readable, maxBytes?: number): Promise<BlobWriteResult>;
  createReadStream(key: string, range?: { start: number; end: number }): Readable;
  size(key: string): Promise<number | null>;
  delete(key: string): Promise<void>;
}
