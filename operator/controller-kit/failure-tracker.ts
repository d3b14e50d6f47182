/**
 * Which objects keep failing to reconcile — upstream's `failurelag.Tracker`, the state behind
 * `reconcile_failing_objects`, the periodic "currently failing" log lines and the dump-state endpoint.
 *
 * A key is *degraded* once it has failed without a single success in between for `pendingPeriodMs`
 * (a success forgets it); a degraded key is *actively retried* while its last failure is less than one
 * period old, and *not retried* after that. Upstream reaches the same answers by replaying a queue with
 * one entry per failure; here both follow from two timestamps per key, read at `now` (FIX: no queue
 * that grows with every failure of a long-failing object).
 */
import type { Clock } from './clock';

export interface DegradedKeys {
  /** Failed again within the last period. */
  readonly retried: string[];
  /** No failure for a whole period (nothing is retrying it). */
  readonly notRetried: string[];
}

export class FailureTracker {
  private readonly failures = new Map<string, { first: number; last: number }>();

  constructor(
    private readonly pendingPeriodMs: number,
    private readonly clock: Clock,
  ) {}

  recordFailure(key: string): void {
    const now = this.clock.now();
    const f = this.failures.get(key);
    if (f) f.last = now;
    else this.failures.set(key, { first: now, last: now });
  }

  recordSuccess(key: string): void {
    this.failures.delete(key);
  }

  degraded(): DegradedKeys {
    const now = this.clock.now();
    const retried: string[] = [];
    const notRetried: string[] = [];
    for (const [key, { first, last }] of this.failures) {
      if (now - first < this.pendingPeriodMs) continue;
      (now - last < this.pendingPeriodMs ? retried : notRetried).push(key);
    }
    return { retried: retried.sort(), notRetried: notRetried.sort() };
  }

  /** Keys failing right now, degraded or not yet. */
  get size(): number {
    return this.failures.size;
  }
}
