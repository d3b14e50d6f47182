import { FakeClock } from './clock';
import { WorkQueue } from './work-queue';

describe('WorkQueue', () => {
  it('deduplicates keys that are waiting', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.add('ns/a');
    q.add('ns/a');
    q.add('ns/b');
    expect(q.length).toBe(2);
    expect(await q.get()).toBe('ns/a');
    expect(await q.get()).toBe('ns/b');
  });

  it('never hands a key being processed to a second worker, and re-queues it on done', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.add('ns/a');
    const key = await q.get();
    q.add('ns/a'); // event arrives while a worker holds the key
    expect(q.length).toBe(0);
    let second: string | undefined;
    void q.get().then((k) => (second = k));
    await Promise.resolve();
    expect(second).toBeUndefined();
    q.done(key!);
    await Promise.resolve();
    expect(second).toBe('ns/a');
  });

  it('addAfter fires on the clock and keeps only the earliest timer per key', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    q.addAfter('ns/a', 1000);
    q.addAfter('ns/a', 5000);
    q.addAfter('ns/a', 500);
    expect(clock.pendingTimers).toBe(1);
    clock.advance(499);
    expect(q.length).toBe(0);
    clock.advance(1);
    expect(q.length).toBe(1);
    clock.advance(10_000);
    expect(q.length).toBe(1);
  });

  it('backs off exponentially per key and forgets on success', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock, backoff: { baseMs: 100, maxMs: 1000 } });
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      const before = clock.now();
      q.addRateLimited('ns/a');
      for (let waited = 0; q.length === 0 && waited < 10_000; waited += 10) clock.advance(10);
      delays.push(clock.now() - before);
      q.done((await q.get())!);
    }
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(q.failures('ns/a')).toBe(6);
    q.forget('ns/a');
    expect(q.failures('ns/a')).toBe(0);
    expect(q.failures('ns/b')).toBe(0);
  });

  it('shutDown releases waiting workers and cancels timers', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    const waiting = q.get();
    q.addAfter('ns/a', 1000);
    q.shutDown();
    expect(await waiting).toBeUndefined();
    expect(clock.pendingTimers).toBe(0);
    q.add('ns/b');
    expect(q.length).toBe(0);
  });
});
