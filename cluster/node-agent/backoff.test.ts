import { backoffDelayMs, BackoffState, KUBELET_BACKOFF, recordCrash } from './backoff';

describe('container restart back-off', () => {
  const crashQuickly = (times: number): BackoffState => {
    let state: BackoffState = { crashes: 0 };
    for (let i = 0; i < times; i++) state = recordCrash(state, 100, KUBELET_BACKOFF);
    return state;
  };

  it('restarts at once after the first crash, then doubles from 10 s', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelayMs(crashQuickly(n), KUBELET_BACKOFF))).toEqual([
      0, 10_000, 20_000, 40_000,
    ]);
  });

  it('caps the delay at five minutes', () => {
    expect(backoffDelayMs(crashQuickly(20), KUBELET_BACKOFF)).toBe(300_000);
  });

  it('starts over after a run longer than the reset period', () => {
    const state = recordCrash(crashQuickly(6), 600_000, KUBELET_BACKOFF);
    expect(backoffDelayMs(state, KUBELET_BACKOFF)).toBe(0);
  });
});
