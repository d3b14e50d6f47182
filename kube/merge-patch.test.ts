import { createMergePatch } from './merge-patch';

describe('createMergePatch', () => {
  it('is undefined for equal objects', () => {
    expect(createMergePatch({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 })).toBeUndefined();
  });

  it('sets changed keys, nulls removed keys, recurses into objects, replaces arrays', () => {
    expect(
      createMergePatch(
        { phase: 'Pending', podName: 'p', nested: { x: 1, y: 2 }, conditions: [{ type: 'A' }] },
        {
          phase: 'Running',
          nested: { x: 1, y: 3 },
          conditions: [{ type: 'A' }, { type: 'B' }],
          podIP: '10.0.0.1',
        },
      ),
    ).toEqual({
      phase: 'Running',
      podName: null,
      nested: { y: 3 },
      conditions: [{ type: 'A' }, { type: 'B' }],
      podIP: '10.0.0.1',
    });
  });
});
