/**
 * The work loop every controller shares: workers take keys from the queue (never two on one key),
 * call `reconcile`, and requeue — after `requeueAfterMs` when the reconciler asks for a timer, with
 * per-key backoff on errors. This is the only place a reconcile error is logged, and where every
 * outcome is recorded (metrics, and the failure trackers behind `reconcile_failing_objects`).
 */
import { systemClock, type Clock } from './clock';
import { isConflict, parseKey, type ObjectRef } from '../../kube';
import { FailureTracker, type DegradedKeys } from './failure-tracker';
import { RetryLaterError } from './retry-later';
import { WritesAbandonedError } from './write-queue';
import { errorFields, type Logger } from './logger';
import type { FailingObjectCounts, OperatorMetrics, ReconcileOutcome } from './metrics';
import { WorkQueue } from './work-queue';

export interface ReconcileResult {
  /** Reconcile again after this many milliseconds (a real timer, e.g. a timeout or a poll). */
  readonly requeueAfterMs?: number;
  /**
   * Writes the reconcile handed to a `WriteQueue` instead of awaiting them (its status write). The
   * worker moves on, but the key stays held — no reconcile of it starts — until they settled, so the
   * next reconcile of the object reads what they stored (the informer records each write's answer),
   * exactly as when the reconcile awaited them. Their failure is the key's failure: logged, counted,
   * and the key re-queued with its back-off (a 409 is decided again from fresh state, never re-sent).
   */
  readonly writes?: Promise<void>;
}

export interface Reconciler {
  reconcile(ref: ObjectRef, log: Logger): Promise<ReconcileResult | void>;
}

export interface ControllerOptions {
  readonly name: string;
  readonly reconciler: Reconciler;
  readonly workers?: number;
  readonly queue?: WorkQueue;
  readonly metrics?: OperatorMetrics;
  /** A key failing this long without a success counts as degraded (`--failure-pending-period`, 1 min). */
  readonly failurePendingPeriodMs?: number;
  readonly clock?: Clock;
  readonly log: Logger;
}

export const DEFAULT_FAILURE_PENDING_PERIOD_MS = 60_000;

/** Degraded keys of one controller, as upstream's dump-state endpoint lists them. */
export interface FailingSnapshot {
  readonly controllerName: string;
  /** Failing with errors other than conflicts. */
  readonly failing: DegradedKeys;
  /** Failing with write conflicts only (a stale cache; tracked apart, as upstream). */
  readonly conflicting: DegradedKeys;
}

export class Controller {
  readonly queue: WorkQueue;
  readonly name: string;
  private readonly workers: Promise<void>[] = [];
  private readonly clock: Clock;
  private readonly failing: FailureTracker;
  private readonly conflicting: FailureTracker;
  private running = false;
  /** Keys held until the writes their reconcile handed off settle (see `ReconcileResult.writes`). */
  private readonly held = new Map<string, Promise<void>>();

  constructor(private readonly options: ControllerOptions) {
    this.name = options.name;
    this.clock = options.clock ?? systemClock;
    this.queue = options.queue ?? new WorkQueue({ clock: this.clock });
    const period = options.failurePendingPeriodMs ?? DEFAULT_FAILURE_PENDING_PERIOD_MS;
    this.failing = new FailureTracker(period, this.clock);
    this.conflicting = new FailureTracker(period, this.clock);
  }

  /** The keys degraded right now (read at call time, no I/O). */
  failingSnapshot(): FailingSnapshot {
    return {
      controllerName: this.name,
      failing: this.failing.degraded(),
      conflicting: this.conflicting.degraded(),
    };
  }

  /** `reconcile_failing_objects` of this controller. */
  failingCounts(): FailingObjectCounts[] {
    const s = this.failingSnapshot();
    const counts = (outcome: 'failure' | 'conflict', d: DegradedKeys): FailingObjectCounts => ({
      controller: this.name,
      outcome,
      retried: d.retried.length,
      notRetried: d.notRetried.length,
    });
    return [counts('failure', s.failing), counts('conflict', s.conflicting)];
  }

  enqueue(key: string): void {
    this.queue.add(key);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    for (let i = 0; i < (this.options.workers ?? 1); i++) this.workers.push(this.work());
  }

  /**
   * Stops handing out keys and waits for in-flight reconciles to finish, and for the writes they handed
   * off (the `WriteQueue`'s owner decides whether those are flushed or abandoned).
   */
  async stop(): Promise<void> {
    this.queue.shutDown();
    await Promise.all(this.workers);
    while (this.held.size > 0) await Promise.all([...this.held.values()]);
    this.running = false;
  }

  /** Keys whose reconcile returned and whose handed-off writes are still out (dump-state). */
  heldKeys(): string[] {
    return [...this.held.keys()].sort();
  }

  /** Reconciles one key now (tests and benchmarks). */
  async processKey(key: string): Promise<ReconcileResult> {
    const { metrics, reconciler, name } = this.options;
    const log = this.options.log.child({ controller: name, key });
    const started = this.clock.now();
    let result: 'success' | 'requeue' | 'error' | 'conflict' = 'success';
    let outcome: ReconcileOutcome = 'success';
    try {
      const r = (await reconciler.reconcile(parseKey(key), log)) ?? {};
      // With writes still out, the back-off is reset once they land (`settleWrites`).
      if (!r.writes) this.queue.forget(key);
      if (r.requeueAfterMs !== undefined) {
        result = 'requeue';
        this.queue.addAfter(key, r.requeueAfterMs);
      }
      return r;
    } catch (err) {
      // An expected wait (upstream: IPAM "try again" → RequeueAfter without error) is no failure.
      if (err instanceof RetryLaterError) {
        result = 'requeue';
        log.debug({ retryInMs: err.retryAfterMs, reason: err.message }, 'retrying later');
        this.queue.addAfter(key, err.retryAfterMs);
        return { requeueAfterMs: err.retryAfterMs };
      }
      outcome = isConflict(err) ? 'conflict' : 'failure';
      result = outcome === 'conflict' ? 'conflict' : 'error';
      const failures = this.queue.failures(key) + 1;
      if (outcome === 'conflict') log.debug({ failures }, 'conflict; retrying with fresh state');
      else log.error({ failures, ...errorFields(err) }, 'reconcile failed');
      metrics?.reconcileErrors.inc({ controller: name });
      this.queue.addRateLimited(key);
      return {};
    } finally {
      this.recordOutcome(key, outcome);
      const seconds = (this.clock.now() - started) / 1000;
      metrics?.reconcileTotal.inc({ controller: name, result });
      metrics?.reconcileDuration.observe({ controller: name, outcome }, seconds);
      metrics?.queueDepth.set({ controller: name }, this.queue.length);
    }
  }

  /**
   * As upstream: conflicts are tracked apart; a non-conflict failure ends a conflict streak (the
   * conflict got resolved), but a conflict does not end a failure streak (those tend to persist).
   */
  private recordOutcome(key: string, outcome: ReconcileOutcome): void {
    if (outcome === 'conflict') return this.conflicting.recordFailure(key);
    this.conflicting.recordSuccess(key);
    if (outcome === 'failure') this.failing.recordFailure(key);
    else this.failing.recordSuccess(key);
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      const started = this.clock.now();
      let writes: Promise<void> | undefined;
      try {
        writes = (await this.processKey(key)).writes;
      } finally {
        if (writes) this.hold(key, writes, started);
        else {
          this.queue.done(key);
          this.observeWithWrites(started);
        }
      }
    }
  }

  /** Keeps `key` from being processed again until `writes` settled, then releases it. */
  private hold(key: string, writes: Promise<void>, started: number): void {
    const released = this.settleWrites(key, writes).finally(() => {
      this.held.delete(key);
      this.queue.done(key);
      this.observeWithWrites(started);
    });
    this.held.set(key, released);
  }

  private observeWithWrites(started: number): void {
    const seconds = (this.clock.now() - started) / 1000;
    this.options.metrics?.reconcileWithWrites.observe({ controller: this.name }, seconds);
  }

  /** The outcome of a reconcile's handed-off writes, recorded as the reconcile's would be. */
  private async settleWrites(key: string, writes: Promise<void>): Promise<void> {
    const { metrics, name } = this.options;
    try {
      await writes;
      this.queue.forget(key);
    } catch (err) {
      if (err instanceof WritesAbandonedError) return; // leadership lost: the next leader decides again
      const outcome: ReconcileOutcome = isConflict(err) ? 'conflict' : 'failure';
      const log = this.options.log.child({ controller: name, key });
      const failures = this.queue.failures(key) + 1;
      if (outcome === 'conflict') log.debug({ failures }, 'write conflict; deciding again with fresh state');
      else log.error({ failures, ...errorFields(err) }, 'write failed');
      metrics?.reconcileErrors.inc({ controller: name });
      metrics?.writeFailures.inc({ controller: name, outcome });
      this.recordOutcome(key, outcome);
      this.queue.addRateLimited(key);
    }
  }
}
