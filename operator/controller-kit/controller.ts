/**
 * The work loop every controller shares: workers take keys from the queue (never two on one key),
 * call `reconcile`, and requeue — after `requeueAfterMs` when the reconciler asks for a timer, with
 * per-key backoff on errors. This is the only place a reconcile error is logged.
 */
import { systemClock, type Clock } from './clock';
import { isConflict, parseKey, type ObjectRef } from '../../kube';
import { RetryLaterError } from './retry-later';
import { errorFields, type Logger } from './logger';
import type { OperatorMetrics } from './metrics';
import { WorkQueue } from './work-queue';

export interface ReconcileResult {
  /** Reconcile again after this many milliseconds (a real timer, e.g. a timeout or a poll). */
  readonly requeueAfterMs?: number;
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
  readonly clock?: Clock;
  readonly log: Logger;
}

export class Controller {
  readonly queue: WorkQueue;
  readonly name: string;
  private readonly workers: Promise<void>[] = [];
  private readonly clock: Clock;
  private running = false;

  constructor(private readonly options: ControllerOptions) {
    this.name = options.name;
    this.clock = options.clock ?? systemClock;
    this.queue = options.queue ?? new WorkQueue({ clock: this.clock });
  }

  enqueue(key: string): void {
    this.queue.add(key);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    for (let i = 0; i < (this.options.workers ?? 1); i++) this.workers.push(this.work());
  }

  /** Stops handing out keys and waits for in-flight reconciles to finish. */
  async stop(): Promise<void> {
    this.queue.shutDown();
    await Promise.all(this.workers);
    this.running = false;
  }

  /** Reconciles one key now (tests and benchmarks). */
  async processKey(key: string): Promise<ReconcileResult> {
    const { metrics, reconciler, name } = this.options;
    const log = this.options.log.child({ controller: name, key });
    const started = this.clock.now();
    let outcome = 'success';
    try {
      const result = (await reconciler.reconcile(parseKey(key), log)) ?? {};
      this.queue.forget(key);
      if (result.requeueAfterMs !== undefined) {
        outcome = 'requeue';
        this.queue.addAfter(key, result.requeueAfterMs);
      }
      return result;
    } catch (err) {
      if (err instanceof RetryLaterError) {
        outcome = 'requeue';
        log.debug({ retryInMs: err.retryAfterMs, reason: err.message }, 'retrying later');
        this.queue.addAfter(key, err.retryAfterMs);
        return { requeueAfterMs: err.retryAfterMs };
      }
      outcome = isConflict(err) ? 'conflict' : 'error';
      const failures = this.queue.failures(key) + 1;
      if (outcome === 'conflict') log.debug({ failures }, 'conflict; retrying with fresh state');
      else log.error({ failures, ...errorFields(err) }, 'reconcile failed');
      metrics?.reconcileErrors.inc({ controller: name });
      this.queue.addRateLimited(key);
      return {};
    } finally {
      const seconds = (this.clock.now() - started) / 1000;
      metrics?.reconcileTotal.inc({ controller: name, result: outcome });
      metrics?.reconcileDuration.observe({ controller: name, outcome }, seconds);
      metrics?.queueDepth.set({ controller: name }, this.queue.length);
    }
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        await this.processKey(key);
      } finally {
        this.queue.done(key);
      }
    }
  }
}
