import { createMergePatch, jsonEqual } from './merge-patch';

describe('createMergePatch', () => {
  it('is undefined when only the key order of an array element differs (the server sorts keys)', () => {
    const stored = {
      phase: 'Running',
      conditions: [{ lastTransitionTime: 't', message: 'm', reason: 'R', status: 'True', type: 'Available' }],
    };
    const rebuilt = {
      conditions: [{ type: 'Available', status: 'True', lastTransitionTime: 't', reason: 'R', message: 'm' }],
      phase: 'Running',
    };
    expect(createMergePatch(stored, rebuilt)).toBeUndefined();
    expect(
      createMergePatch(stored, { ...rebuilt, conditions: [{ ...rebuilt.conditions[0], message: 'other' }] }),
    ).toEqual({ conditions: [{ ...rebuilt.conditions[0], message: 'other' }] });
  });

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

describe('jsonEqual', () => {
  it('compares as JSON: undefined keys absent, Dates as their ISO text, arrays in order', () => {
    expect(jsonEqual({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(jsonEqual({ at: new Date('2026-01-02T03:04:05Z') }, { at: '2026-01-02T03:04:05.000Z' })).toBe(
      true,
    );
    expect(jsonEqual([1, 2], [2, 1])).toBe(false);
    expect(jsonEqual([undefined], [null])).toBe(true);
    expect(jsonEqual({ a: { b: [1, { c: 'x' }] } }, { a: { b: [1, { c: 'y' }] } })).toBe(false);
    expect(jsonEqual({ a: 1 }, { b: 1 })).toBe(false);
    expect(jsonEqual(1, '1')).toBe(false);
    expect(jsonEqual(null, {})).toBe(false);
  });
});
