import { cpuBoundLatencyFloors, cpuPerPodForFloor } from './burst-floor';
import { percentile } from './percentile';

describe('cpuBoundLatencyFloors', () => {
  it('is j × CPU per pod / cores for the j-th pod Running when all are created at once', () => {
    const pods = [0, 1, 2, 3].map((i) => ({ createdMs: 0, runningMs: 100 * (4 - i) }));
    expect(cpuBoundLatencyFloors(pods, 10, 2)).toEqual([5, 10, 15, 20]);
  });

  it('takes each pod in the order it became Running and subtracts its own create time', () => {
    const pods = [
      { createdMs: 8, runningMs: 50 },
      { createdMs: 0, runningMs: 20 },
      { createdMs: 4, runningMs: 40 },
    ];
    // Running order: created 0 (floor 10), created 4 (20 - 4), created 8 (30 - 8).
    expect(cpuBoundLatencyFloors(pods, 20, 2)).toEqual([10, 16, 22]);
  });

  it('never goes below zero for pods created after their share of the CPU was served', () => {
    expect(cpuBoundLatencyFloors([{ createdMs: 500, runningMs: 600 }], 10, 2)).toEqual([0]);
  });

  it('bounds every percentile of the measured latencies when the CPU per pod was needed', () => {
    // Two cores, 10 ms per pod, 6 pods created at once and served two at a time: Running at 10, 10, 20, …
    const pods = [10, 10, 20, 20, 30, 30].map((t) => ({ createdMs: 0, runningMs: t }));
    const floors = cpuBoundLatencyFloors(pods, 10, 2);
    const latencies = pods.map((p) => p.runningMs - p.createdMs);
    for (const p of [50, 99]) expect(percentile(floors, p)).toBeLessThanOrEqual(percentile(latencies, p));
    expect(percentile(floors, 50)).toBe(15);
  });

  it('names a bad core count or CPU figure', () => {
    expect(() => cpuBoundLatencyFloors([], 1, 0)).toThrow(/cores must be > 0/);
    expect(() => cpuBoundLatencyFloors([], Number.NaN, 2)).toThrow(/cpuPerPodMs must be >= 0/);
  });
});

describe('cpuPerPodForFloor', () => {
  it('finds the CPU per pod whose floor p50 is the target', () => {
    // 4 pods created at once on 2 cores: floors C/2, C, 3C/2, 2C; the nearest-rank p50 is the 2nd, C.
    const pods = [1, 2, 3, 4].map((t) => ({ createdMs: 0, runningMs: t }));
    expect(cpuPerPodForFloor(pods, 2, 30)).toBeCloseTo(30, 6);
  });

  it('allows more CPU per pod when the creates were spread out', () => {
    const atOnce = [1, 2, 3, 4].map((t) => ({ createdMs: 0, runningMs: t }));
    const spread = [1, 2, 3, 4].map((t) => ({ createdMs: 10 * t, runningMs: 10 * t + 1 }));
    expect(cpuPerPodForFloor(spread, 2, 30)).toBeGreaterThan(cpuPerPodForFloor(atOnce, 2, 30));
  });
});
