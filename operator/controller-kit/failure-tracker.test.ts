import { FakeClock } from './clock';
import { FailureTracker } from './failure-tracker';

const MIN = 60_000;

describe('FailureTracker (upstream failurelag semantics)', () => {
  it('marks a key degraded after failing for a whole period, actively retried while failures continue', () => {
    const clock = new FakeClock();
    const t = new FailureTracker(MIN, clock);
    t.recordFailure('ns/a');
    clock.advance(MIN - 1);
    t.recordFailure('ns/a');
    expect(t.degraded()).toEqual({ retried: [], notRetried: [] });
    clock.advance(1);
    expect(t.degraded()).toEqual({ retried: ['ns/a'], notRetried: [] });
    // No failure for a whole period since the last one: nothing retries it any more.
    clock.advance(MIN - 1);
    expect(t.degraded().notRetried).toEqual(['ns/a']);
    // A new failure makes it actively retried again.
    t.recordFailure('ns/a');
    expect(t.degraded()).toEqual({ retried: ['ns/a'], notRetried: [] });
  });

  it('forgets a key on success: the pending period starts over', () => {
    const clock = new FakeClock();
    const t = new FailureTracker(MIN, clock);
    t.recordFailure('ns/a');
    clock.advance(MIN);
    // One failure a whole period ago and none since: degraded, and nothing retries it.
    expect(t.degraded()).toEqual({ retried: [], notRetried: ['ns/a'] });
    t.recordSuccess('ns/a');
    expect(t.size).toBe(0);
    t.recordFailure('ns/a');
    clock.advance(MIN - 1);
    expect(t.degraded()).toEqual({ retried: [], notRetried: [] });
  });

  it('keeps one entry per key however often it fails', () => {
    const clock = new FakeClock();
    const t = new FailureTracker(MIN, clock);
    for (let i = 0; i < 10_000; i++) {
      t.recordFailure(`ns/${i % 3}`);
      clock.advance(10);
    }
    expect(t.size).toBe(3);
    expect(t.degraded().retried).toEqual(['ns/0', 'ns/1', 'ns/2']);
  });
});
