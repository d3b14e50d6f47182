/**
 * successThreshold / failureThreshold bookkeeping of a probe: the result only flips after that many
 * consecutive opposite outcomes.
 */
export interface ProbeCounter {
  result: boolean;
  successes: number;
  failures: number;
}

export function initialProbeCounter(initialResult: boolean): ProbeCounter {
  return { result: initialResult, successes: 0, failures: 0 };
}

export function recordProbe(
  counter: ProbeCounter,
  success: boolean,
  thresholds: { successThreshold?: number; failureThreshold?: number },
): ProbeCounter {
  const successes = success ? counter.successes + 1 : 0;
  const failures = success ? 0 : counter.failures + 1;
  let result = counter.result;
  if (success && successes >= (thresholds.successThreshold ?? 1)) result = true;
  if (!success && failures >= (thresholds.failureThreshold ?? 3)) result = false;
  return { result, successes, failures };
}
