/**
 * A TCP fault proxy for the machine's real PostgreSQL and Redis (the servers themselves are
 * never stopped): the gateway connects to the proxy, the proxy to the server, and a test
 * decides what the network does in between.
 *
 * - `forward`  : bytes flow both ways (the normal state);
 * - `down()`   : every open connection is cut (RST) and the port refuses new ones
 *                (ECONNREFUSED), as when the server's host goes away or the server restarts;
 * - `blackhole()`: connections stay open but nothing passes and new ones hang, as in a
 *                network partition (no RST, no FIN: only timeouts notice);
 * - `cut()`    : cuts the open connections once, new ones are fine (a server-side kill);
 * - `dropReplies()`: open connections still carry requests to the server, but its answers are
 *                thrown away (what a connection that dies after the server committed looks
 *                like to the client, once followed by `cut()`); new connections are normal;
 * - `resume()` : back to forwarding (the port is listened on again after `down()`).
 */
import net from 'node:net';

type Mode = 'forward' | 'down' | 'blackhole';

interface Pair {
  client: net.Socket;
  upstream: net.Socket | null;
}

export class TcpFaultProxy {
  private server: net.Server | null = null;
  private readonly pairs = new Set<Pair>();
  private modeNow: Mode = 'forward';
  /** Connections accepted (for tests asserting that the gateway reconnected). */
  accepted = 0;

  private constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
    private portNow: number,
  ) {}

  static async start(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpFaultProxy> {
    const proxy = new TcpFaultProxy(targetHost, targetPort, 0);
    await proxy.listen();
    return proxy;
  }

  get port(): number {
    return this.portNow;
  }
  get mode(): Mode {
    return this.modeNow;
  }
  /** Open client connections (the gateway's pool / ioredis sockets). */
  get connections(): number {
    return this.pairs.size;
  }

  private listen(): Promise<void> {
    const server = net.createServer((client) => this.accept(client));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: this.portNow, host: '127.0.0.1', exclusive: true }, () => {
        server.off('error', reject);
        this.portNow = (server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }

  private accept(client: net.Socket): void {
    this.accepted++;
    const pair: Pair = { client, upstream: null };
    this.pairs.add(pair);
    client.on('error', () => undefined);
    client.on('close', () => {
      this.pairs.delete(pair);
      pair.upstream?.destroy();
    });
    if (this.modeNow === 'blackhole') {
      // Hold it: read and drop nothing, answer nothing (the peer waits for its timeout).
      client.pause();
      return;
    }
    this.connectUpstream(pair);
  }

  private connectUpstream(pair: Pair): void {
    const upstream = net.connect(this.targetPort, this.targetHost);
    pair.upstream = upstream;
    upstream.on('error', () => pair.client.destroy());
    upstream.on('close', () => pair.client.destroy());
    pair.client.pipe(upstream);
    upstream.pipe(pair.client);
    pair.client.resume();
  }

  /** Cuts every open connection with a reset; new ones are accepted as the mode says. */
  cut(): void {
    for (const pair of [...this.pairs]) {
      pair.client.resetAndDestroy();
      pair.upstream?.destroy();
      this.pairs.delete(pair);
    }
  }

  /** The service is gone: open connections reset, new ones refused. */
  async down(): Promise<void> {
    this.modeNow = 'down';
    const server = this.server;
    this.server = null;
    const closed = server ? new Promise<void>((r) => server.close(() => r())) : Promise.resolve();
    this.cut();
    await closed;
  }

  /** A partition: open connections go silent (nothing is forwarded), new ones hang. */
  blackhole(): void {
    this.modeNow = 'blackhole';
    for (const pair of this.pairs) {
      if (!pair.upstream) continue;
      pair.client.unpipe(pair.upstream);
      pair.upstream.unpipe(pair.client);
      pair.client.pause();
      pair.upstream.pause();
    }
  }

  /** The server's answers on the open connections are read and discarded from now on. */
  dropReplies(): void {
    for (const pair of this.pairs) {
      const up = pair.upstream;
      if (!up) continue;
      up.unpipe(pair.client);
      up.on('data', () => undefined);
      up.resume();
    }
  }

  /** Back to forwarding. Connections held by a blackhole are cut (their protocol state is unknowable). */
  async resume(): Promise<void> {
    if (this.modeNow === 'blackhole') this.cut();
    this.modeNow = 'forward';
    if (!this.server) await this.listen();
  }

  async close(): Promise<void> {
    this.modeNow = 'down';
    const server = this.server;
    this.server = null;
    this.cut();
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }
}
