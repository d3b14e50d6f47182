import {
  clearDegraded,
  CONDITION_AVAILABLE,
  CONDITION_DEGRADED,
  findCondition,
  Reasons,
  setCondition,
} from './conditions';

const t0 = new Date('2026-01-01T00:00:00.123Z');
const t1 = new Date('2026-01-01T00:01:00Z');

describe('conditions', () => {
  it('adds a condition with whole-second transition time and observedGeneration', () => {
    const list = setCondition(
      undefined,
      { type: CONDITION_AVAILABLE, status: 'Unknown', reason: Reasons.Reconciling, message: 'm' },
      t0,
      3,
    );
    expect(list).toEqual([
      {
        type: 'Available',
        status: 'Unknown',
        observedGeneration: 3,
        lastTransitionTime: '2026-01-01T00:00:00Z',
        reason: 'Reconciling',
        message: 'm',
      },
    ]);
  });

  it('keeps lastTransitionTime when the status does not change, updates it when it does', () => {
    let list = setCondition(
      undefined,
      { type: CONDITION_AVAILABLE, status: 'True', reason: Reasons.RunnerReady, message: 'a' },
      t0,
    );
    list = setCondition(
      list,
      { type: CONDITION_AVAILABLE, status: 'True', reason: Reasons.RunnerReady, message: 'b' },
      t1,
      2,
    );
    expect(findCondition(list, CONDITION_AVAILABLE)).toMatchObject({
      lastTransitionTime: '2026-01-01T00:00:00Z',
      message: 'b',
      observedGeneration: 2,
    });
    list = setCondition(
      list,
      { type: CONDITION_AVAILABLE, status: 'False', reason: Reasons.PodSucceeded, message: 'c' },
      t1,
    );
    expect(findCondition(list, CONDITION_AVAILABLE)?.lastTransitionTime).toBe('2026-01-01T00:01:00Z');
  });

  it('does not mutate its input', () => {
    const list = setCondition(
      undefined,
      { type: CONDITION_AVAILABLE, status: 'True', reason: 'X', message: '' },
      t0,
    );
    const copy = JSON.parse(JSON.stringify(list));
    setCondition(list, { type: CONDITION_AVAILABLE, status: 'False', reason: 'Y', message: '' }, t1);
    expect(list).toEqual(copy);
  });

  it('clears Degraded once the cause is gone (unlike upstream), and leaves an absent one absent', () => {
    const degraded = setCondition(
      undefined,
      { type: CONDITION_DEGRADED, status: 'True', reason: Reasons.PodFailed, message: 'pod failed' },
      t0,
    );
    const cleared = clearDegraded(degraded, 'runner ready', t1, 4);
    expect(findCondition(cleared, CONDITION_DEGRADED)).toMatchObject({
      status: 'False',
      reason: 'AsExpected',
      observedGeneration: 4,
    });
    expect(clearDegraded(undefined, 'x', t1)).toEqual([]);
    expect(clearDegraded(cleared, 'y', t1)).toEqual(cleared);
  });
});
