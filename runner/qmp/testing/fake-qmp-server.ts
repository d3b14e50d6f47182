/**
 * An in-process QMP server on a unix socket for fast client tests: greeting, capability
 * negotiation, scripted command handlers, injected events and dropped connections.
 */
import { Server, Socket, createServer } from 'node:net';
import { LineSplitter } from '../protocol';

export type FakeReply =
  | { readonly return: unknown }
  | { readonly error: { readonly class: string; readonly desc: string } }
  | 'no-reply';
export type FakeHandler = (args: Record<string, unknown>) => FakeReply | Promise<FakeReply>;

export class FakeQmpServer {
  /** Every command received (including qmp_capabilities), in order. */
  readonly received: Array<{ execute: string; arguments?: Record<string, unknown> }> = [];
  private readonly handlers = new Map<string, FakeHandler>();
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  connections = 0;

  constructor(readonly socketPath: string) {}

  /** Client connections currently open. */
  get openConnections(): number {
    return this.sockets.size;
  }

  handle(command: string, handler: FakeHandler): this {
    this.handlers.set(command, handler);
    return this;
  }

  listen(): Promise<void> {
    this.server = createServer((s) => this.accept(s));
    return new Promise((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.socketPath, () => resolve());
    });
  }

  emitEvent(event: string, data: Record<string, unknown> = {}): void {
    const line = JSON.stringify({ event, data, timestamp: { seconds: 1, microseconds: 0 } }) + '\n';
    for (const s of this.sockets) s.write(line);
  }

  /** Closes all client connections (the server keeps listening). */
  dropConnections(): void {
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    this.dropConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private accept(s: Socket): void {
    this.connections++;
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => undefined);
    s.setEncoding('utf8');
    s.write(
      JSON.stringify({
        QMP: { version: { qemu: { major: 7, minor: 2, micro: 0 }, package: 'fake' }, capabilities: ['oob'] },
      }) + '\n',
    );
    const splitter = new LineSplitter();
    s.on('data', (chunk: string) => {
      for (const line of splitter.push(chunk))
        void this.reply(
          s,
          JSON.parse(line) as { execute: string; id?: unknown; arguments?: Record<string, unknown> },
        );
    });
  }

  private async reply(
    s: Socket,
    cmd: { execute: string; id?: unknown; arguments?: Record<string, unknown> },
  ): Promise<void> {
    this.received.push({ execute: cmd.execute, arguments: cmd.arguments });
    const handler = this.handlers.get(cmd.execute);
    const reply: FakeReply =
      cmd.execute === 'qmp_capabilities' && !handler
        ? { return: {} }
        : handler
          ? await handler(cmd.arguments ?? {})
          : { error: { class: 'CommandNotFound', desc: `The command ${cmd.execute} has not been found` } };
    if (reply === 'no-reply' || s.destroyed) return;
    s.write(JSON.stringify({ ...reply, id: cmd.id }) + '\n');
  }
}
