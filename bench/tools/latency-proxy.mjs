// A TCP proxy that holds every packet for DELAY_MS before passing it on, both ways: PostgreSQL as
// if on another machine, for judging changes in round trips, which this VM's loopback hides
// (its two cores are the bound there). Node's timers make ~1 ms the shortest hold.
//   DELAY_MS=1 PORT=6543 TARGET=127.0.0.1:5432 node bench/tools/latency-proxy.mjs &
//   PG=postgres://postgres@127.0.0.1:6543/<db> node bench/tools/one-job.mjs
import net from 'node:net';

const delay = Number(process.env.DELAY_MS ?? 1);
const port = Number(process.env.PORT ?? 6543);
const [host, targetPort] = (process.env.TARGET ?? '127.0.0.1:5432').split(':');

net
  .createServer((client) => {
    const server = net.connect(Number(targetPort), host);
    client.setNoDelay(true);
    server.setNoDelay(true);
    // Timers of one delay fire in the order they were set: the bytes keep their order.
    const relay = (from, to) => from.on('data', (bytes) => setTimeout(() => to.write(bytes), delay));
    relay(client, server);
    relay(server, client);
    const close = () => {
      client.destroy();
      server.destroy();
    };
    for (const socket of [client, server]) socket.on('close', close).on('error', close);
  })
  .listen(port, '127.0.0.1', () => console.log(`holding packets ${delay} ms each way: 127.0.0.1:${port} → ${host}:${targetPort}`));
