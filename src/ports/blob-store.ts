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

/** Thrown by openAppender for a blob that holds fewer bytes than it was to be cut back to. */
export class BlobShorterError extends Error {
  constructor(key: string, size: number, expected: number) {
    super(`${key} holds ${size} bytes, fewer than the ${expected} its checkpoint counts: lines written before the checkpoint are lost`);
    this.name = 'BlobShorterError';
  }
}

/** Appends to a blob that grows while a job runs (the result CSV). */
export interface BlobAppender {
  append(chunk: Buffer): Promise<void>;
  /**
   * Makes what was appended so far durable: a checkpoint committed after it may count those bytes
   * and still find them after a crash of the machine.
   */
  sync(): Promise<void>;
  /** Bytes in the blob so far. */
  readonly size: number;
  close(): Promise<void>;
}

/** Uploaded zips and result files. Keys are relative paths such as `uploads/<id>.zip`. */
export interface BlobStore {
  write(key: string, source: Readable, maxBytes?: number): Promise<BlobWriteResult>;
  createReadStream(key: string, range?: { start: number; end: number }): Readable;
  size(key: string): Promise<number | null>;
  delete(key: string): Promise<void>;
  /**
   * Opens a blob for appending, cut back to `truncateTo` bytes first (resume from a checkpoint).
   * A blob shorter than that lost bytes its checkpoint counted: BlobShorterError.
   */
  openAppender(key: string, truncateTo: number): Promise<BlobAppender>;
}
