import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { FakeClock } from '../host';
import { TokenBucket, withRequestRateLimit } from './request-rate-limit';

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

describe('withRequestRateLimit', () => {
  it('keeps the kubeconfig and takes a token before every API request', async () => {
    const kc = new KubeConfig();
    kc.loadFromClusterAndUser(
      { name: 'c', server: 'https://127.0.0.1:1', skipTLSVerify: true },
      { name: 'u', token: 't' },
    );
    const clock = new FakeClock();
    const bucket = new TokenBucket({ qps: 1, burst: 1 }, clock);
    const limited = withRequestRateLimit(kc, bucket);
    expect(limited.getCurrentCluster()?.server).toBe('https://127.0.0.1:1');
    expect(limited.getCurrentUser()?.token).toBe('t');
    const core = limited.makeApiClient(CoreV1Api);
    // Port 1 refuses at once: both calls fail, but only after taking their tokens.
    const first = core.listNamespace().catch(() => 'failed');
    await expect(first).resolves.toBe('failed');
    let second: string | undefined;
    void core.listNamespace().catch(() => (second = 'failed'));
    await flush();
    expect(bucket.waiting).toBe(1);
    expect(second).toBeUndefined();
    clock.advance(1000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(bucket.waiting).toBe(0);
    expect(second).toBe('failed');
  });
});
