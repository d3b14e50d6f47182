/**
 * Every `--failing-refresh-interval`, one log line per degraded object (one line each rather than a
 * list, as upstream: log stores and Loki handle short lines and no arrays), and with
 * `--force-retry-not-retried` the degraded objects nothing retries any more are queued again.
 * FIX: upstream runs this only for the VirtualMachine controller, so failing migrations were never
 * reported; here every controller is.
 */
import type { Clock, TimerHandle } from './clock';
import type { Controller } from './controller';
import type { Logger } from './logger';

export interface FailingReporterOptions {
  readonly controllers: readonly Controller[];
  readonly intervalMs: number;
  readonly forceRetryNotRetried?: boolean;
  readonly clock: Clock;
  readonly log: Logger;
}

export class FailingReporter {
  private timer: TimerHandle | undefined;
  private stopped = true;

  constructor(private readonly o: FailingReporterOptions) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  /** One round: log every degraded object, re-queue the not-retried ones if asked to. */
  report(): void {
    for (const c of this.o.controllers) {
      const snapshot = c.failingSnapshot();
      for (const [outcome, keys] of [
        ['failure', snapshot.failing],
        ['conflict', snapshot.conflicting],
      ] as const) {
        for (const [retried, list] of [
          [true, keys.retried],
          [false, keys.notRetried],
        ] as const)
          for (const object of list)
            this.o.log.info(
              { controller: c.name, outcome, object, activelyRetried: retried },
              `Currently failing to reconcile ${c.name} object`,
            );
        if (this.o.forceRetryNotRetried) for (const key of keys.notRetried) c.enqueue(key);
      }
    }
  }

  private schedule(): void {
    this.timer = this.o.clock.setTimer(this.o.intervalMs, () => {
      if (this.stopped) return;
      this.report();
      this.schedule();
    });
  }
}
