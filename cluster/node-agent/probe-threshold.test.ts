import { initialProbeCounter, recordProbe } from './probe-threshold';

describe('probe thresholds', () => {
  const run = (
    outcomes: boolean[],
    t: { successThreshold?: number; failureThreshold?: number },
    start = false,
  ) => outcomes.reduce((c, o) => recordProbe(c, o, t), initialProbeCounter(start)).result;

  it('becomes ready after successThreshold consecutive successes', () => {
    expect(run([true], {})).toBe(true);
    expect(run([true], { successThreshold: 2 })).toBe(false);
    expect(run([true, false, true], { successThreshold: 2 })).toBe(false);
    expect(run([true, true], { successThreshold: 2 })).toBe(true);
  });

  it('fails only after failureThreshold consecutive failures (default 3)', () => {
    expect(run([false, false], {}, true)).toBe(true);
    expect(run([false, false, false], {}, true)).toBe(false);
    expect(run([false, false, true, false], {}, true)).toBe(true);
  });
});
