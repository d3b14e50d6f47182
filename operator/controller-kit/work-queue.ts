/**
 * A work queue of object keys with client-go's guarantees: a key is queued at most once however often
 * it is added (dedup), a key being processed is never handed to a second worker (it is re-queued when
 * the first calls `done`), failures back off per key, and `addAfter` schedules real timers.
 */
import { KeyedBackoff, type BackoffOptions } from './backoff';
import { systemClock, type Clock, type TimerHandle } from './clock';

export interface WorkQueueOptions {
  readonly clock?: Clock;
  readonly backoff?: BackoffOptions;
}

export interface WorkQueueSnapshot {
  /** Waiting for a worker, in order. */
  readonly queued: string[];
  readonly processing: string[];
  /** Timers that will add a key (requeue-after, or back-off after a failure). */
  readonly delayed: Array<{ key: string; inMs: number }>;
  /** Keys with failures since their last success. */
  readonly backingOff: Array<{ key: string; failures: number }>;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  /** Keys that need processing (queued, or added again while processing). */
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly waiters: Array<(key: string | undefined) => void> = [];
  /** The earliest pending delayed add per key. */
  private readonly delayed = new Map<string, { at: number; timer: TimerHandle }>();
  private readonly backoff: KeyedBackoff;
  private readonly clock: Clock;
  private shuttingDown = false;

  constructor(options: WorkQueueOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.backoff = new KeyedBackoff(options.backoff);
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    const waiter = this.waiters.shift();
    if (waiter) {
      this.dirty.delete(key);
      this.processing.add(key);
      waiter(key);
    } else {
      this.queue.push(key);
    }
  }

  /** Adds `key` after `ms`; if an earlier delayed add is pending it wins, a later one replaces it. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(key);
    const at = this.clock.now() + ms;
    const pending = this.delayed.get(key);
    if (pending && pending.at <= at) return;
    pending?.timer.cancel();
    const timer = this.clock.setTimer(ms, () => {
      this.delayed.delete(key);
      this.add(key);
    });
    this.delayed.set(key, { at, timer });
  }

  /** Re-adds a failed key after its per-key exponential backoff. */
  addRateLimited(key: string): void {
    this.addAfter(key, this.backoff.next(key));
  }

  /** Clears the failure history of `key` (call after a successful reconcile). */
  forget(key: string): void {
    this.backoff.forget(key);
  }

  failures(key: string): number {
    return this.backoff.attempts(key);
  }

  /** The next key to process, or undefined once the queue is shut down. */
  get(): Promise<string | undefined> {
    const key = this.queue.shift();
    if (key !== undefined) {
      this.dirty.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Marks `key` processed; if it was added meanwhile it goes back into the queue. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      this.dirty.delete(key);
      this.add(key);
    }
  }

  get length(): number {
    return this.queue.length;
  }

  get inFlight(): number {
    return this.processing.size;
  }

  /** What the queue holds right now, for the dump-state endpoint. */
  snapshot(): WorkQueueSnapshot {
    const now = this.clock.now();
    return {
      queued: [...this.queue],
      processing: [...this.processing].sort(),
      delayed: [...this.delayed]
        .map(([key, { at }]) => ({ key, inMs: Math.max(0, at - now) }))
        .sort((a, b) => a.inMs - b.inMs),
      backingOff: this.backoff.entries().map(([key, failures]) => ({ key, failures })),
    };
  }

  /** Stops handing out keys: waiting `get` calls resolve undefined, pending timers are cancelled. */
  shutDown(): void {
    this.shuttingDown = true;
    for (const { timer } of this.delayed.values()) timer.cancel();
    this.delayed.clear();
    for (const waiter of this.waiters.splice(0)) waiter(undefined);
  }
}
