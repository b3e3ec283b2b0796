import type pg from 'pg';
import { retryingTransaction } from './pg-pool.js';

const COPY_DATA = 0x64; // 'd'
const COPY_DONE = Buffer.from([0x63, 0, 0, 0, 4]); // 'c', length 4

/** What pg's Client hands a submittable: the connection, whose socket it may write to. */
interface Connection {
  query(text: string): void;
  readonly stream: { write(b: Uint8Array, done?: () => void): boolean; cork(): void; uncork(): void };
}

/** An error as pg's Client reports a server's ErrorResponse: its SQLSTATE in `code`. */
export type ServerError = Error & { code?: string };

/**
 * A simple query of several statements, some of which may be `COPY … FROM STDIN`, sent with their
 * COPY data at once: one round trip where a client that waits for each answer takes one per
 * statement, and two for each COPY. The server reads each COPY's data when that COPY starts; if a
 * statement before it fails, the rest of the query is skipped and the server ignores the COPY data
 * that follows (a backend discards CopyData and CopyDone outside COPY, per the protocol). Rows that
 * statements return are not kept: the query says what went wrong by failing.
 *
 * A pg submittable (`client.query(new OneTripQuery(…))`, as pg-copy-streams' queries are): pg's
 * Client calls `submit` when the connection is free and routes the server's answers here.
 */
export class OneTripQuery {
  readonly done: Promise<void>;
  private settle!: (e?: ServerError) => void;
  /** Set once `submit` has written COPY data: see `sent`. */
  private written: Promise<void> | null = null;

  constructor(
    readonly text: string,
    /** The data of each COPY of `text`, in the order of the COPYs: pieces cut anywhere. */
    private readonly copies: readonly (readonly Uint8Array[])[] = [],
  ) {
    this.done = new Promise<void>((resolve, reject) => {
      this.settle = (e) => (e ? reject(e) : resolve());
    });
  }

  /**
   * Resolves once the connection's socket holds none of the COPY data: written to the kernel, or
   * dropped with a socket that failed. The query may be answered before that (a statement ahead of
   * a COPY fails as soon as the server reads it, while the data is still being written); the data's
   * buffers may be used again only after this (copy-pieces.ts).
   */
  sent(): Promise<void> {
    return this.written ?? Promise.resolve();
  }

  submit(connection: Connection): void {
    // Corked: the query, each piece and its 5-byte header go to the socket in one writev rather than
    // a write each (pg sets TCP_NODELAY, so each write was a system call and a segment of its own).
    connection.stream.cork();
    try {
      connection.query(this.text);
      const last = this.copies.length - 1;
      this.copies.forEach((data, i) => {
        for (const piece of data) {
          const head = Buffer.allocUnsafe(5);
          head[0] = COPY_DATA;
          head.writeUInt32BE(piece.byteLength + 4, 1);
          connection.stream.write(head);
          connection.stream.write(piece);
        }
        // A socket writes in order: its last write is called back once all before it are out, or
        // with an error once it is destroyed (every write still pending is called back then).
        if (i < last) connection.stream.write(COPY_DONE);
        else this.written = new Promise((resolve) => connection.stream.write(COPY_DONE, () => resolve()));
      });
    } finally {
      connection.stream.uncork();
    }
  }

  /** pg's Client calls it once the query is answered in full, after an error too (with none pending, then). */
  handleReadyForQuery(): void {
    this.settle();
  }

  /** pg's Client forgets the query after this: no ReadyForQuery comes here for it. */
  handleError(e: ServerError): void {
    this.settle(e);
  }

  // Answers to the statements along the way, none of which the query needs.
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleCommandComplete(): void {}
  handleEmptyQuery(): void {}
  handleCopyInResponse(): void {}
  handlePortalSuspended(): void {}
  handleCopyData(): void {}
  /** pg may wrap this for its query timeout; the query settles through the handlers above. */
  callback(): void {}
}

/**
 * Runs a query that holds a whole transaction, COMMIT included (BEGIN first), or one statement in
 * a transaction of its own, as withTransaction runs its function (retryingTransaction). Rejects
 * with the server's error; after a failed COMMIT (or statement) there is no transaction left, and
 * the ROLLBACK that follows only draws a warning. Settles only once no socket holds the COPY
 * data any more (OneTripQuery.sent): its buffers are the caller's again.
 */
export function runOneTrip(pool: pg.Pool, text: string, copies: readonly (readonly Uint8Array[])[] = []): Promise<void> {
  return retryingTransaction(pool, async (client) => {
    const query = new OneTripQuery(text, copies);
    void client.query(query as unknown as pg.QueryConfig);
    try {
      await query.done;
    } finally {
      await query.sent();
    }
  });
}
