import { Backoff, backoffDelay, KeyedBackoff } from './backoff';

describe('backoff', () => {
  it('grows by the factor and is capped', () => {
    const opts = { baseMs: 200, maxMs: 30_000 };
    expect([0, 1, 2, 3, 8, 9, 200].map((n) => backoffDelay(n, opts))).toEqual([
      0, 200, 400, 800, 25_600, 30_000, 30_000,
    ]);
    expect(backoffDelay(3, { baseMs: 10, maxMs: 1000, factor: 3 })).toBe(90);
  });

  it('counts failures per key independently', () => {
    const b = new KeyedBackoff({ baseMs: 5, maxMs: 100 });
    expect([b.next('a'), b.next('a'), b.next('b'), b.next('a')]).toEqual([5, 10, 5, 20]);
    b.forget('a');
    expect(b.next('a')).toBe(5);
  });

  it('single-loop backoff resets', () => {
    const b = new Backoff({ baseMs: 1, maxMs: 4 });
    expect([b.next(), b.next(), b.next(), b.next()]).toEqual([1, 2, 4, 4]);
    b.reset();
    expect(b.next()).toBe(1);
  });
});
