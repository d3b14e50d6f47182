/**
 * The shortest pod start latencies a CPU-bound burst allows (pure).
 *
 * Why: issue #21 asks for a burst's p50 within 3× of one pod at a time. When every pod of the burst is
 * created before the first is Running, the cores serve all of them at once: however the work is
 * ordered, the j-th pod to be Running cannot be so before j pods' worth of CPU has been served, that is
 * j × (CPU per pod) / cores after the first create. Its latency is then at least that minus its own
 * create time. Each pod's latency bounds its floor from above, so every percentile of the floors bounds
 * the same percentile of the latencies. The floor holds for any implementation with that CPU per pod;
 * comparing it with one pod at a time says whether a ratio target is reachable on this machine at all.
 * It is an estimate in one respect: the CPU per pod is the burst's average, which includes some work
 * done after a pod is Running (its events) and the idle cost of the cluster over the burst.
 */
import { percentile } from './percentile';

export interface PodStart {
  /** Milliseconds from the burst's first create call to this pod's create call. */
  readonly createdMs: number;
  /** Milliseconds from the burst's first create call to this pod being seen Running. */
  readonly runningMs: number;
}

/**
 * Per pod (in the order they became Running), the least latency a burst with `cpuPerPodMs` of CPU per
 * pod on `cores` fully busy cores allows it.
 */
export function cpuBoundLatencyFloors(
  pods: readonly PodStart[],
  cpuPerPodMs: number,
  cores: number,
): number[] {
  if (!(cores > 0)) throw new Error(`cores must be > 0, got ${cores}`);
  if (!(cpuPerPodMs >= 0)) throw new Error(`cpuPerPodMs must be >= 0, got ${cpuPerPodMs}`);
  return [...pods]
    .sort((a, b) => a.runningMs - b.runningMs)
    .map((p, i) => Math.max(0, ((i + 1) * cpuPerPodMs) / cores - p.createdMs));
}

/**
 * The CPU per pod at which the p50 of the floors is `targetMs` for these pods' create times (the
 * floors grow with the CPU per pod, so a bisection finds it): what a pod start may cost for a p50
 * target to be reachable at all, if the creates came as they did.
 */
export function cpuPerPodForFloor(pods: readonly PodStart[], cores: number, targetMs: number): number {
  const p50 = (cpu: number) => percentile(cpuBoundLatencyFloors(pods, cpu, cores), 50);
  let lo = 0;
  let hi = 1;
  while (p50(hi) < targetMs && hi < 1e6) hi *= 2;
  for (let i = 0; i < 50; i++) {
    const mid = (lo + hi) / 2;
    if (p50(mid) < targetMs) lo = mid;
    else hi = mid;
  }
  return hi;
}
