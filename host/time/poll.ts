/**
 * Waiting for a condition observed by polling: the one bounded wait of the project (the cluster, the
 * runner, the demo, tests and benchmarks all use it), so every timeout reads the same way.
 */
import { sleep, systemClock, type Clock } from './clock';

export interface PollOptions {
  readonly timeoutMs: number;
  /** Pause between attempts; default 200 ms. */
  readonly intervalMs?: number;
  /** Appears in the timeout error: "timed out after 30000 ms waiting for <description>". */
  readonly description: string;
  /** Checked before every attempt; a non-undefined result aborts the wait with that error. */
  readonly abortIf?: () => Error | undefined;
  /** Default: real time. */
  readonly clock?: Clock;
}

/** Thrown by an attempt to stop waiting at once: a definitive failure, not a transient error. */
export class PollAborted extends Error {
  override name = 'PollAborted';
}

export class PollTimeoutError extends Error {
  override name = 'PollTimeoutError';
}

/**
 * Calls `attempt` until it returns a value other than undefined and returns that value. Errors thrown
 * by `attempt` count as "not yet" (the last one is quoted in the timeout error), except PollAborted.
 */
export async function pollUntil<T>(attempt: () => Promise<T | undefined>, options: PollOptions): Promise<T> {
  const now = () => (options.clock ?? systemClock).now();
  const deadline = now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    const abort = options.abortIf?.();
    if (abort) throw abort;
    try {
      const value = await attempt();
      if (value !== undefined) return value;
    } catch (err) {
      if (err instanceof PollAborted) throw err;
      lastError = err;
    }
    if (now() >= deadline) {
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new PollTimeoutError(
        `timed out after ${options.timeoutMs} ms waiting for ${options.description}${cause}`,
      );
    }
    await sleep(options.intervalMs ?? 200, options.clock);
  }
}
