/**
 * A QMP client over a unix socket: one long-lived connection (QEMU serves one client per QMP
 * socket), requests matched to replies by `id`, events delivered to listeners, automatic reconnect
 * with backoff while the owner wants it.
 *
 *   const qmp = await QmpClient.connect({ socketPath });
 *   const cpus = await qmp.execute<HotpluggableCpu[]>('query-hotpluggable-cpus');
 *   const deleted = qmp.waitForEvent('DEVICE_DELETED', (e) => e.data.device === 'cpu1', 5000);
 *   await qmp.execute('device_del', { id: 'cpu1' });
 *   await deleted;
 *   await qmp.close();
 */
import { EventEmitter } from 'node:events';
import { Socket, createConnection } from 'node:net';
import { sleep, systemClock, type Clock, type TimerHandle } from '../../host';
import { QmpCommandError, QmpConnectionError, QmpTimeoutError } from './errors';
import {
  LineSplitter,
  QmpEvent,
  QmpGreeting,
  backoffDelay,
  classifyMessage,
  encodeCommand,
} from './protocol';

export interface QmpClientOptions {
  readonly socketPath: string;
  /** How long connect() keeps trying (QEMU creates the socket 35–240 ms after spawn). Default 10 s. */
  readonly connectTimeoutMs?: number;
  /** Default per-command timeout. Default 10 s. */
  readonly commandTimeoutMs?: number;
  /** Reconnect after the socket closes, until close() is called. Default true. */
  readonly reconnect?: boolean;
  readonly reconnectMinMs?: number;
  readonly reconnectMaxMs?: number;
  /** Diagnostic lines (reconnects, protocol errors). */
  readonly log?: (msg: string) => void;
  /** Time for deadlines, timeouts and reconnect delays. Default: real time. */
  readonly clock?: Clock;
}

export interface ExecuteOptions {
  readonly timeoutMs?: number;
}

/** Listener signatures of the client's own events (besides per-QMP-event names, see onEvent). */
export interface QmpClientEvents {
  /** Every QMP event. */
  event: [QmpEvent];
  /** Negotiated (again) after a reconnect. */
  connected: [QmpGreeting];
  /** The socket closed; pending commands were rejected. */
  disconnected: [Error | undefined];
}

interface Pending {
  readonly socket: Socket;
  readonly command: string;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: Error) => void;
  readonly timer: TimerHandle;
}

const RETRYABLE_CONNECT = new Set(['ENOENT', 'ECONNREFUSED', 'EAGAIN']);

export class QmpClient extends EventEmitter<QmpClientEvents> {
  private socket: Socket | undefined;
  /** A connection attempt in progress (destroyed by close()). */
  private connecting: Socket | undefined;
  private readonly pending = new Map<string, Pending>();
  private nextId = 1;
  private closing = false;
  private reconnectTimer: TimerHandle | undefined;
  private greetingValue: QmpGreeting | undefined;
  private readonly commandTimeoutMs: number;
  private readonly clock: Clock;

  private constructor(private readonly opts: QmpClientOptions) {
    super();
    this.commandTimeoutMs = opts.commandTimeoutMs ?? 10_000;
    this.clock = opts.clock ?? systemClock;
  }

  /** Connects (retrying while the socket does not exist yet), reads the greeting, negotiates capabilities. */
  static async connect(opts: QmpClientOptions): Promise<QmpClient> {
    const client = new QmpClient(opts);
    const { clock } = client;
    const deadline = clock.now() + (opts.connectTimeoutMs ?? 10_000);
    for (;;) {
      try {
        await client.connectOnce(Math.max(1, deadline - clock.now()));
        return client;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (!code || !RETRYABLE_CONNECT.has(code) || clock.now() >= deadline) {
          client.closing = true;
          throw e instanceof QmpConnectionError
            ? e
            : new QmpConnectionError(undefined, `connect ${opts.socketPath}: ${(e as Error).message}`);
        }
        await sleep(20, opts.clock);
      }
    }
  }

  /** The greeting of the current connection (QEMU version, capabilities). */
  get greeting(): QmpGreeting | undefined {
    return this.greetingValue;
  }

  get connected(): boolean {
    return this.socket !== undefined && this.greetingValue !== undefined;
  }

  /**
   * Runs a command and resolves with its `return` value. Rejects with QmpCommandError (QEMU's
   * error class and description), QmpTimeoutError or QmpConnectionError. While reconnecting,
   * waits for the connection within the same timeout.
   */
  async execute<T = unknown>(command: string, args?: object, opts: ExecuteOptions = {}): Promise<T> {
    const timeoutMs = opts.timeoutMs ?? this.commandTimeoutMs;
    const deadline = this.clock.now() + timeoutMs;
    if (!this.connected) await this.waitConnected(command, timeoutMs);
    const socket = this.socket;
    if (!socket) throw new QmpConnectionError(command, 'not connected');
    return this.send<T>(socket, command, args, Math.max(1, deadline - this.clock.now()));
  }

  /** Subscribes to one QMP event name; returns the unsubscribe function. */
  onEvent(name: string, listener: (e: QmpEvent) => void): () => void {
    const l = (e: QmpEvent) => {
      if (e.event === name) listener(e);
    };
    this.on('event', l);
    return () => this.off('event', l);
  }

  /**
   * Resolves with the next `name` event matching predicate. Call it before issuing the command
   * that causes the event, so a fast event is not missed.
   */
  waitForEvent(
    name: string,
    predicate: (e: QmpEvent) => boolean = () => true,
    timeoutMs = this.commandTimeoutMs,
  ): Promise<QmpEvent> {
    return new Promise((resolve, reject) => {
      const done = (fn: () => void) => {
        timer.cancel();
        unsubscribe();
        this.off('disconnected', onClose);
        fn();
      };
      const unsubscribe = this.onEvent(name, (e) => {
        if (predicate(e)) done(() => resolve(e));
      });
      const onClose = () => {
        if (this.closing)
          done(() => reject(new QmpConnectionError(undefined, `closed while waiting for ${name}`)));
      };
      this.on('disconnected', onClose);
      const timer = this.clock.setTimer(timeoutMs, () =>
        done(() => reject(new QmpTimeoutError(`event ${name}`, timeoutMs))),
      );
    });
  }

  /** Closes the connection for good; pending commands are rejected. */
  async close(): Promise<void> {
    this.closing = true;
    this.reconnectTimer?.cancel();
    this.connecting?.destroy();
    const s = this.socket;
    if (!s) {
      this.emit('disconnected', undefined);
      return;
    }
    await new Promise<void>((resolve) => {
      s.once('close', () => resolve());
      s.destroy();
    });
  }

  private send<T>(socket: Socket, command: string, args: object | undefined, timeoutMs: number): Promise<T> {
    const id = `neonvm-${this.nextId++}`;
    return new Promise<T>((resolve, reject) => {
      const timer = this.clock.setTimer(timeoutMs, () => {
        this.pending.delete(id);
        reject(new QmpTimeoutError(command, timeoutMs));
      });
      this.pending.set(id, { socket, command, resolve: resolve as (v: unknown) => void, reject, timer });
      socket.write(encodeCommand(command, args, id));
    });
  }

  private waitConnected(command: string, timeoutMs: number): Promise<void> {
    if (this.closing) return Promise.reject(new QmpConnectionError(command, 'client closed'));
    return new Promise((resolve, reject) => {
      const onConnected = () => {
        timer.cancel();
        this.off('disconnected', onDisconnected);
        resolve();
      };
      const onDisconnected = () => {
        if (!this.closing) return;
        timer.cancel();
        this.off('connected', onConnected);
        reject(new QmpConnectionError(command, 'client closed'));
      };
      const timer = this.clock.setTimer(timeoutMs, () => {
        this.off('connected', onConnected);
        this.off('disconnected', onDisconnected);
        reject(new QmpTimeoutError(command, timeoutMs));
      });
      this.once('connected', onConnected);
      this.on('disconnected', onDisconnected);
    });
  }

  /** One connection attempt: connect, greeting, qmp_capabilities. The socket becomes current only when negotiated. */
  private connectOnce(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = createConnection(this.opts.socketPath);
      this.connecting = socket;
      const splitter = new LineSplitter();
      let settled = false;
      const fail = (e: Error) => {
        if (settled) return;
        settled = true;
        if (this.connecting === socket) this.connecting = undefined;
        timer.cancel();
        socket.destroy();
        reject(e);
      };
      const timer = this.clock.setTimer(timeoutMs, () =>
        fail(new QmpConnectionError(undefined, `no greeting within ${timeoutMs} ms`)),
      );
      const onGreeting = (greeting: QmpGreeting) => {
        this.send(socket, 'qmp_capabilities', undefined, timeoutMs).then(() => {
          if (settled) return;
          if (this.closing) return fail(new QmpConnectionError(undefined, 'client closed'));
          settled = true;
          timer.cancel();
          this.connecting = undefined;
          this.socket = socket;
          this.greetingValue = greeting;
          this.emit('connected', greeting);
          resolve();
        }, fail);
      };
      socket.setEncoding('utf8');
      socket.on('error', fail);
      socket.on('data', (chunk: string) => {
        for (const line of splitter.push(chunk)) this.handleLine(line, onGreeting);
      });
      socket.on('close', () => {
        fail(new QmpConnectionError(undefined, 'socket closed during negotiation'));
        this.onSocketClosed(socket);
      });
    });
  }

  private handleLine(line: string, onGreeting: (g: QmpGreeting) => void): void {
    let msg;
    try {
      msg = classifyMessage(JSON.parse(line));
    } catch (e) {
      this.opts.log?.(`qmp: ignoring bad message: ${(e as Error).message}`);
      return;
    }
    switch (msg.kind) {
      case 'greeting':
        onGreeting(msg.greeting);
        return;
      case 'event':
        this.emit('event', msg.event);
        return;
      case 'return':
      case 'error': {
        const p = typeof msg.id === 'string' ? this.pending.get(msg.id) : undefined;
        if (!p) return; // late reply after a timeout
        this.pending.delete(msg.id as string);
        p.timer.cancel();
        if (msg.kind === 'return') p.resolve(msg.value);
        else p.reject(new QmpCommandError(p.command, msg.error.class, msg.error.desc));
      }
    }
  }

  private onSocketClosed(socket: Socket): void {
    for (const [id, p] of this.pending) {
      if (p.socket !== socket) continue;
      p.timer.cancel();
      p.reject(new QmpConnectionError(p.command, 'connection closed before the reply'));
      this.pending.delete(id);
    }
    if (this.socket !== socket) return; // a failed (re)connection attempt: its caller handles it
    this.socket = undefined;
    this.greetingValue = undefined;
    this.emit(
      'disconnected',
      this.closing ? undefined : new QmpConnectionError(undefined, 'connection lost'),
    );
    if (!this.closing && (this.opts.reconnect ?? true)) this.scheduleReconnect(0);
  }

  private scheduleReconnect(attempt: number): void {
    const delay = backoffDelay(attempt, this.opts.reconnectMinMs ?? 100, this.opts.reconnectMaxMs ?? 2000);
    this.reconnectTimer = this.clock.setTimer(delay, () => {
      if (this.closing) return;
      this.connectOnce(this.commandTimeoutMs).then(
        () => this.opts.log?.(`qmp: reconnected to ${this.opts.socketPath}`),
        (e: Error) => {
          this.opts.log?.(`qmp: reconnect attempt ${attempt + 1} failed: ${e.message}`);
          if (!this.closing) this.scheduleReconnect(attempt + 1);
        },
      );
    });
  }
}
