/**
 * A TCP proxy the fault tests put between one client (an operator, a node agent) and the API server, so
 * that they can cut that client off without touching anyone else's connection. Hand-written (60 lines
 * of `net`) because the faults need to be exact: `freeze` keeps every connection open and forwards
 * nothing — a network partition as TCP sees it, where requests hang instead of failing — and `thaw`
 * delivers what was held back, as a healed network does.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export class TcpProxy {
  private server: Server | undefined;
  private frozen = false;
  private readonly pairs = new Set<[Socket, Socket]>();
  /** Connections accepted so far (a client that reconnects shows up here). */
  connections = 0;

  constructor(
    private readonly target: { host: string; port: number },
    private readonly listenHost = '127.0.0.1',
  ) {}

  /** Starts listening on a free port; returns it. */
  async start(): Promise<number> {
    const server = (this.server = createServer((client) => this.accept(client)));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, this.listenHost, () => resolve());
    });
    return (server.address() as AddressInfo).port;
  }

  /** From now on nothing passes in either direction; connections stay open and hang. */
  freeze(): void {
    this.frozen = true;
  }

  /** Lets traffic flow again, delivering what was held back, as a healed network does. */
  thaw(): void {
    this.frozen = false;
    for (const flush of this.flushes) flush();
  }

  async stop(): Promise<void> {
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private readonly flushes = new Set<() => void>();

  private accept(client: Socket): void {
    this.connections++;
    const upstream = createConnection(this.target);
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    // Forwarded by hand rather than with pipe(): pipe() resumes a paused socket on 'drain', and a
    // frozen proxy must hold everything back until thawed.
    const held: Array<[Socket, Buffer]> = [];
    const forward = (to: Socket) => (chunk: Buffer) => {
      if (this.frozen) held.push([to, chunk]);
      else to.write(chunk);
    };
    const flush = () => {
      for (const [to, chunk] of held.splice(0)) to.write(chunk);
    };
    this.flushes.add(flush);
    client.on('data', forward(upstream));
    upstream.on('data', forward(client));
    const close = () => {
      client.destroy();
      upstream.destroy();
      this.pairs.delete(pair);
      this.flushes.delete(flush);
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  }
}
