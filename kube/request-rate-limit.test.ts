import { FakeClock } from '../host';
import { TokenBucket } from './request-rate-limit';

/** Acquires `n` tokens and reports how many resolved so far. */
function acquireMany(bucket: TokenBucket, n: number) {
  let granted = 0;
  for (let i = 0; i < n; i++) void bucket.acquire().then(() => granted++);
  return { granted: () => granted };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('TokenBucket (client-go QPS/Burst)', () => {
  it('lets a burst through at once, then one request per 1/qps seconds, in order', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ qps: 10, burst: 3 }, clock);
    const order: number[] = [];
    for (let i = 0; i < 5; i++) void bucket.acquire().then(() => order.push(i));
    await flush();
    expect(order).toEqual([0, 1, 2]);
    expect(bucket.waiting).toBe(2);
    clock.advance(99);
    await flush();
    expect(order).toEqual([0, 1, 2]);
    clock.advance(1);
    await flush();
    expect(order).toEqual([0, 1, 2, 3]);
    clock.advance(100);
    await flush();
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(bucket.waiting).toBe(0);
  });

  it('refills up to the burst after a quiet period, never beyond', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ qps: 100, burst: 2 }, clock);
    let run = acquireMany(bucket, 2);
    await flush();
    expect(run.granted()).toBe(2);
    clock.advance(60_000);
    run = acquireMany(bucket, 3);
    await flush();
    expect(run.granted()).toBe(2);
    clock.advance(10);
    await flush();
    expect(run.granted()).toBe(3);
  });

  it('names the bad value', () => {
    const clock = new FakeClock();
    expect(() => new TokenBucket({ qps: 0, burst: 1 }, clock)).toThrow(/qps must be > 0 \(got 0\)/);
    expect(() => new TokenBucket({ qps: 1, burst: 0.5 }, clock)).toThrow(/burst must be an integer/);
  });
});
