import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedCallback {
  readonly method: string;
  readonly contentType: string | undefined;
  readonly body: Record<string, unknown>;
}

/**
 * How the endpoint answers the first deliveries: 500, never (the connection stays open), a
 * redirect to itself, or a 200 whose body it cuts off (it has taken the delivery).
 */
export type RefusalKind = 'fail' | 'hang' | 'redirect' | 'cut';

/** A client's callback endpoint on loopback; can refuse the first N deliveries to exercise retries. */
export class CallbackReceiver {
  readonly received: ReceivedCallback[] = [];
  /** The method of every request, answered or not. */
  readonly methods: string[] = [];
  attempts = 0;
  private server: Server | null = null;

  constructor(
    private readonly failFirst = 0,
    private readonly refusal: RefusalKind = 'fail',
  ) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.attempts++;
        this.methods.push(req.method ?? '');
        const early = this.attempts <= this.failFirst;
        if (early && this.refusal === 'fail') return void res.writeHead(500).end('not now');
        if (early && this.refusal === 'redirect') return void res.writeHead(302, { location: req.url ?? '/' }).end();
        if (early && this.refusal === 'hang') return;
        this.received.push({
          method: req.method ?? '',
          contentType: req.headers['content-type'],
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
        });
        if (early) {
          res.writeHead(200, { 'content-length': '100' });
          // Cut once the status and the first bytes are out: destroyed at once, they never left.
          res.write('ok', () => setTimeout(() => res.socket?.destroy(), 50));
          return;
        }
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/bulk-callback`;
  }

  async waitFor(count: number, timeoutMs = 10_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.received.length < count) {
      if (Date.now() > until) throw new Error(`expected ${count} callbacks, got ${this.received.length}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async stop(): Promise<void> {
    // A request left unanswered ('hang') holds its connection open.
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
