import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP proxy in front of a server (Postgres), so a test can simulate an outage of
 * its own connections only: cut() drops every connection and refuses new ones, restore() accepts
 * again on the same port.
 */
export class TcpProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  /** Connections being forwarded (freeze() stops them). */
  private readonly pairs: Array<{ client: Socket; upstream: Socket }> = [];
  private port = 0;

  constructor(
    private readonly target: { host: string; port: number },
  ) {}

  /** Starts listening on an ephemeral loopback port; returns it. */
  async start(): Promise<number> {
    await this.listen(0);
    return this.port;
  }

  /** Drops every open connection and stops accepting: clients see a reset, then ECONNREFUSED. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    this.pairs.length = 0;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /**
   * Stops forwarding on every open connection without closing it, as a network path that drops
   * packets would: both ends wait for an answer that never comes. New connections work.
   */
  freeze(): void {
    for (const { client, upstream } of this.pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
    this.pairs.length = 0;
  }

  /** Accepts connections again, on the same port. */
  async restore(): Promise<void> {
    if (!this.server) await this.listen(this.port);
  }

  async stop(): Promise<void> {
    await this.cut();
  }

  private async listen(port: number): Promise<void> {
    const server = createServer((client) => this.pipe(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  private pipe(client: Socket): void {
    const upstream = createConnection(this.target);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        this.sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
    this.pairs.push({ client, upstream });
  }
}
