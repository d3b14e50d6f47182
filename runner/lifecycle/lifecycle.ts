/**
 * Named stages over one cleanup stack. A stage is an async step with a name (it appears in logs and in
 * the error when it fails) that registers the undo of every resource it creates. When a stage fails,
 * or `abort()` is called (SIGTERM while starting, a crash), everything registered so far is undone
 * once, newest first, and no later stage starts. After start the same stack is unwound when QEMU exits.
 */
import { systemClock, type Clock } from '../../host';
import { CleanupStack, type CleanupFailure } from './cleanup-stack';

export type Log = (msg: string, extra?: Record<string, unknown>) => void;

/** What a stage gets besides its own inputs. */
export interface StageContext {
  /** Registers how to undo something this stage has just created (`what` names it in reports). */
  onUndo(what: string, undo: () => unknown): void;
  /** Aborted when the lifecycle is: long waits inside a stage may stop early. */
  readonly signal: AbortSignal;
  /** The lifecycle's clock, for every wait and timestamp of a stage. */
  readonly clock: Clock;
}

/** A stage failed (or was cut short by an abort); `stage` names it, `cause` is the original error. */
export class StageError extends Error {
  constructor(
    readonly stage: string,
    cause: Error,
  ) {
    super(`${stage}: ${cause.message}`, { cause });
    this.name = 'StageError';
  }
}

export interface LifecycleOptions {
  readonly log: Log;
  /** For the per-stage timings and the stages' waits. Default: real time. */
  readonly clock?: Clock;
}

export class Lifecycle {
  readonly cleanup: CleanupStack;
  private readonly abortController = new AbortController();
  private readonly aborted: Promise<never>;
  readonly clock: Clock;

  constructor(private readonly o: LifecycleOptions) {
    this.clock = o.clock ?? systemClock;
    this.cleanup = new CleanupStack((f: CleanupFailure) =>
      o.log('cleanup step failed', { step: f.step, error: f.error.message }),
    );
    this.aborted = new Promise<never>((_, reject) =>
      this.abortController.signal.addEventListener('abort', () => reject(this.reason())),
    );
    this.aborted.catch(() => undefined); // observed by stage(); no unhandled rejection when idle
  }

  get signal(): AbortSignal {
    return this.abortController.signal;
  }

  /**
   * Runs one stage. Before it starts and while it runs, an abort wins: the stage's promise is left
   * behind (what it registers later is undone at once) and this rejects with a StageError.
   */
  async stage<T>(name: string, run: (ctx: StageContext) => Promise<T> | T): Promise<T> {
    const ctx: StageContext = {
      onUndo: (what, undo) => this.cleanup.push(`${name}: ${what}`, undo),
      signal: this.signal,
      clock: this.clock,
    };
    const t0 = this.clock.now();
    try {
      if (this.signal.aborted) throw this.reason();
      const value = await Promise.race([Promise.resolve().then(() => run(ctx)), this.aborted]);
      this.o.log('stage done', { stage: name, ms: this.clock.now() - t0 });
      return value;
    } catch (e) {
      throw new StageError(name, e instanceof Error ? e : new Error(String(e)));
    }
  }

  /** Runs `body` (a sequence of stages); if it throws, unwinds everything registered before rethrowing. */
  async start<T>(body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (e) {
      await this.cleanup.unwind();
      throw e;
    }
  }

  /** Stops now: no further stage starts, the running one is abandoned, everything is undone. */
  async abort(reason: Error): Promise<readonly CleanupFailure[]> {
    if (!this.signal.aborted) {
      this.o.log('aborting', { reason: reason.message, undo: this.cleanup.pending.reverse() });
      this.abortController.abort(reason);
    }
    return this.cleanup.unwind();
  }

  private reason(): Error {
    const r: unknown = this.signal.reason;
    return r instanceof Error ? r : new Error(String(r));
  }
}
