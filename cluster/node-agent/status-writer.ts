import { sleep, systemClock, type Clock } from '../../host';

/**
 * Coalesces status writes: many state changes in quick succession become one API call, writes never
 * overlap, and a change that arrives during a write triggers exactly one more.
 */
export class StatusWriter {
  private dirty = false;
  private running: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly write: () => Promise<void>,
    private readonly onError: (err: Error) => void,
    private readonly delayMs = 20,
    private readonly clock: Clock = systemClock,
  ) {}

  markDirty(): void {
    if (this.closed) return;
    this.dirty = true;
    this.running ??= this.loop();
  }

  /** Resolves when everything marked so far has been written (or failed). */
  async flush(): Promise<void> {
    while (this.running) await this.running;
  }

  close(): void {
    this.closed = true;
    this.dirty = false;
  }

  private async loop(): Promise<void> {
    try {
      await sleep(this.delayMs, this.clock);
      while (this.dirty && !this.closed) {
        this.dirty = false;
        try {
          await this.write();
        } catch (err) {
          this.onError(err as Error);
        }
      }
    } finally {
      this.running = undefined;
    }
  }
}
