/**
 * Writes handed off by reconciles, performed after the reconcile returned (kubelet's status manager
 * does the same for pod status): the reconcile is then computation on cached state, and the API round
 * trip of its status write is no longer part of it.
 *
 * Guarantees, per key (an object):
 * - one write at a time, in submission order (a write starts only after the key's previous one settled);
 * - a write still waiting when a newer one of the same key arrives is replaced by it: only the latest
 *   desired state is written (both submitters' promises settle with the newer write's outcome);
 * - nothing is lost silently: every submitted promise settles with the outcome of the write that
 *   carried its state, or rejects with `WritesAbandonedError` if it never started.
 *
 * The queue does not retry. A write carries a resourceVersion precondition (the VM status merge patch
 * replaces the whole conditions array, which another controller also writes), so a 409 means its
 * desired state was computed from stale input: it must be decided again, not re-sent. The caller
 * (the controller loop) re-queues the key with its per-key back-off, exactly as for a failed reconcile.
 *
 * At most `maxInFlight` writes run at once (the operator uses its worker count: the API server sees
 * the concurrency it saw when workers awaited their writes); the others wait in FIFO order by the
 * time their key was first queued.
 */
import { systemClock, type Clock } from './clock';

/** A queued write that never started because the queue was abandoned (leadership lost). */
export class WritesAbandonedError extends Error {
  constructor(key: string) {
    super(`write of ${key} abandoned: no longer the leader`);
    this.name = 'WritesAbandonedError';
  }
}

export interface WriteQueueOptions {
  /** Writes running at once; must be ≥ 1. */
  readonly maxInFlight?: number;
  readonly clock?: Clock;
  /**
   * Called when a write starts (`waitedMs`: first submission of its key's state → start) and when it
   * settles (`tookMs`: start → settled).
   */
  readonly observe?: (sample: { waitedMs: number } | { tookMs: number; ok: boolean }) => void;
}

export interface WriteQueueSnapshot {
  readonly queued: string[];
  readonly inFlight: string[];
}

interface Pending {
  write: () => Promise<void>;
  /** When this key's waiting state was first queued (a replacement keeps it). */
  since: number;
  settle: Array<{ resolve: () => void; reject: (err: unknown) => void }>;
}

export const DEFAULT_MAX_IN_FLIGHT = 16;

export class WriteQueue {
  private readonly maxInFlight: number;
  private readonly clock: Clock;
  /** Keys with a write waiting to start, in FIFO order (Map iteration order = insertion order). */
  private readonly waiting = new Map<string, Pending>();
  private readonly running = new Map<string, Promise<void>>();
  private closed: 'flush' | 'abandon' | undefined;
  private idle: Array<() => void> = [];

  constructor(private readonly options: WriteQueueOptions = {}) {
    const max = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    if (!Number.isInteger(max) || max < 1)
      throw new Error(`WriteQueue: maxInFlight must be an integer ≥ 1, got ${max}`);
    this.maxInFlight = max;
    this.clock = options.clock ?? systemClock;
  }

  /** Queues `write` for `key`; settles when the write carrying this state settled. */
  submit(key: string, write: () => Promise<void>): Promise<void> {
    if (this.closed === 'abandon') return Promise.reject(new WritesAbandonedError(key));
    return new Promise<void>((resolve, reject) => {
      const pending = this.waiting.get(key);
      if (pending) {
        // Coalesce: the newer state replaces the one not yet sent; everyone waits for it.
        pending.write = write;
        pending.settle.push({ resolve, reject });
      } else {
        this.waiting.set(key, { write, since: this.clock.now(), settle: [{ resolve, reject }] });
      }
      this.pump();
    });
  }

  get queued(): number {
    return this.waiting.size;
  }

  get inFlight(): number {
    return this.running.size;
  }

  snapshot(): WriteQueueSnapshot {
    return { queued: [...this.waiting.keys()], inFlight: [...this.running.keys()].sort() };
  }

  /** Graceful stop: every queued write is still made; resolves once all settled. */
  async flush(): Promise<void> {
    this.closed ??= 'flush';
    await this.whenIdle();
  }

  /**
   * Leadership lost: a standby may be writing already, so queued writes never start (their promises
   * reject with `WritesAbandonedError`); resolves once the writes already sent settled.
   */
  async abandon(): Promise<void> {
    this.closed = 'abandon';
    for (const [key, pending] of this.waiting) {
      for (const s of pending.settle) s.reject(new WritesAbandonedError(key));
    }
    this.waiting.clear();
    await this.whenIdle();
  }

  private whenIdle(): Promise<void> {
    if (this.waiting.size === 0 && this.running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private pump(): void {
    if (this.running.size >= this.maxInFlight) return;
    for (const [key, pending] of this.waiting) {
      if (this.running.size >= this.maxInFlight) break;
      if (this.running.has(key)) continue; // this key's previous write is still out: order per key
      this.waiting.delete(key);
      this.start(key, pending);
    }
    if (this.waiting.size === 0 && this.running.size === 0) for (const r of this.idle.splice(0)) r();
  }

  private start(key: string, pending: Pending): void {
    const started = this.clock.now();
    this.options.observe?.({ waitedMs: started - pending.since });
    const run = (async () => {
      let outcome: { ok: true } | { ok: false; err: unknown };
      try {
        await pending.write();
        outcome = { ok: true };
      } catch (err) {
        outcome = { ok: false, err };
      }
      this.options.observe?.({ tookMs: this.clock.now() - started, ok: outcome.ok });
      this.running.delete(key);
      for (const s of pending.settle) {
        if (outcome.ok) s.resolve();
        else s.reject(outcome.err);
      }
      this.pump();
    })();
    this.running.set(key, run);
  }
}
