import { AddressInfo, createConnection, createServer, Server, Socket } from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 that a test can cut (close every connection and refuse new ones)
 * and restore on the same port: a database or Redis going away and coming back. With
 * `latencyMs`, connections opened afterwards carry every chunk that late: a slow link.
 */
export class TcpProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  port = 0;
  latencyMs = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<this> {
    if (this.server) return this;
    const server = createServer((client) => {
      const upstream = createConnection({ host: this.targetHost, port: this.targetPort });
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      const latency = this.latencyMs;
      if (latency > 0) {
        // Equal delays keep the chunks in order.
        const relay = (from: Socket, to: Socket) =>
          from.on('data', (chunk) => setTimeout(() => to.writable && to.write(chunk), latency));
        relay(client, upstream);
        relay(upstream, client);
      } else {
        client.pipe(upstream).pipe(client);
      }
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', resolve);
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  /** Drops every open connection and stops listening. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise((resolve) => server.close(resolve));
  }

  async restore(): Promise<void> {
    await this.start();
  }

  async stop(): Promise<void> {
    await this.cut();
  }
}
