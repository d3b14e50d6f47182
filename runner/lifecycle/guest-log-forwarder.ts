/**
 * Copies the guest's log channel (virtio-serial `tech.neon.log.0`, a unix socket QEMU listens on) to
 * the runner's stdout, line by line, as upstream's runner does: connect shortly after QEMU starts,
 * reconnect with jittered exponential back-off (100 ms … 3 s) whenever the connection drops, and write
 * out a last unterminated line at stop. Unlike the serial console this is not baud-limited.
 */
import { createConnection, type Socket } from 'node:net';
import { systemClock, type Clock, type TimerHandle } from '../../host';

const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 3_000;

export class GuestLogForwarder {
  private socket: Socket | undefined;
  private partial = '';
  private stopped = false;
  private backoffMs = MIN_BACKOFF_MS;
  private timer: TimerHandle | undefined;

  constructor(
    private readonly socketPath: string,
    private readonly write: (text: string) => void,
    private readonly clock: Clock = systemClock,
  ) {}

  start(delayMs = 200): void {
    this.timer = this.clock.setTimer(delayMs, () => this.connect());
  }

  /** Stops reconnecting and flushes what is buffered. */
  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.socket?.destroy();
    this.flushPartial();
  }

  private connect(): void {
    if (this.stopped) return;
    const socket = createConnection(this.socketPath);
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('connect', () => (this.backoffMs = MIN_BACKOFF_MS));
    socket.on('data', (chunk: string) => this.take(chunk));
    socket.on('error', () => undefined); // 'close' follows and reconnects
    socket.on('close', () => {
      if (this.socket === socket) this.socket = undefined;
      if (this.stopped) return;
      const jitter = 0.5 + Math.random() / 2;
      this.timer = this.clock.setTimer(this.backoffMs * jitter, () => this.connect());
      this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
    });
  }

  private take(chunk: string): void {
    const text = this.partial + chunk;
    const end = text.lastIndexOf('\n');
    if (end < 0) {
      this.partial = text;
      return;
    }
    this.write(text.slice(0, end + 1));
    this.partial = text.slice(end + 1);
  }

  private flushPartial(): void {
    if (this.partial) this.write(`${this.partial}\n`);
    this.partial = '';
  }
}
