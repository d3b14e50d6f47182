/**
 * Restart back-off of crashed containers, as the kubelet does it: the first restart is immediate, each
 * further one waits twice as long as the previous (10 s, 20 s, 40 s ... up to 5 min by default), and a
 * container that ran long enough without crashing starts over from the initial delay. The delay is the
 * host layer's capped exponential back-off; what is the kubelet's own is the crash count and its reset.
 */
import { backoffDelay } from '../../host';

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  /** A run at least this long resets the back-off. */
  resetAfterMs: number;
}

export const KUBELET_BACKOFF: BackoffPolicy = { initialMs: 10_000, maxMs: 300_000, resetAfterMs: 600_000 };

export interface BackoffState {
  /** Consecutive crashes counted for back-off (not the restartCount, which never resets). */
  crashes: number;
}

/** The state after a container exited having run for `ranForMs`. */
export function recordCrash(state: BackoffState, ranForMs: number, policy: BackoffPolicy): BackoffState {
  return { crashes: ranForMs >= policy.resetAfterMs ? 1 : state.crashes + 1 };
}

/** How long to wait before the next start. */
export function backoffDelayMs(state: BackoffState, policy: BackoffPolicy): number {
  return backoffDelay(state.crashes - 1, { baseMs: policy.initialMs, maxMs: policy.maxMs });
}
