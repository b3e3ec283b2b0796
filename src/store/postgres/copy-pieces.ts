/** Bytes a piece of COPY data holds: small buffers streamed one after another. */
export const COPY_PIECE_BYTES = 64 * 1024;

/** Where copy-text.ts gets a buffer for at least `least` bytes of COPY data. */
export type PieceSource = (least: number) => Buffer;

/** A new buffer each time: for data whose buffers nobody gives back. */
export const freshPieces: PieceSource = (least) => Buffer.allocUnsafe(Math.max(COPY_PIECE_BYTES, least));

/**
 * Buffers for COPY data, used again from one batch to the next. A new 64 KB buffer is memory
 * outside V8's heap, which V8 counts and answers with full collections: the ~300 MB of COPY data of
 * a 1M-row PostgreSQL insert made the commit thread mark-compact every ~0.2 s (29 times a job,
 * `--trace-gc`), with marking work on V8's helper threads; reused, 3 times (docs/performance.md).
 *
 * A buffer is lent by `take` and comes back by `giveBack` once nothing reads it any more: for a
 * one-trip query, once `runOneTrip` has settled (it waits for the socket to have written them).
 */
export class CopyPieces {
  private readonly free: Buffer[] = [];
  /**
   * The pieces out on loan: only those come back, and each once. Weak: a piece never given back
   * (its batch failed before it was sent) is only garbage.
   */
  private readonly lent = new WeakSet<ArrayBufferLike>();

  /** @param keep the most idle pieces held (a 2,000-row batch takes ~10) */
  constructor(private readonly keep = 32) {}

  readonly take: PieceSource = (least) => {
    // A record longer than a piece gets a buffer of its own, not kept.
    if (least > COPY_PIECE_BYTES) return Buffer.allocUnsafe(least);
    const piece = this.free.pop() ?? Buffer.allocUnsafeSlow(COPY_PIECE_BYTES);
    this.lent.add(piece.buffer);
    return piece;
  };

  /** Takes back the buffers under `pieces` (views of them, as copyLines returns) that `take` lent. */
  giveBack(pieces: Iterable<Uint8Array>): void {
    for (const p of pieces) {
      if (!this.lent.delete(p.buffer)) continue;
      if (this.free.length < this.keep) this.free.push(Buffer.from(p.buffer, 0, COPY_PIECE_BYTES));
    }
  }
}
