import { FakeClock } from './clock';
import { WriteQueue, WritesAbandonedError } from './write-queue';

/** A write whose completion the test controls. */
function gate(log: string[], name: string) {
  let finish!: (err?: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    finish = (err) => (err ? reject(err) : resolve());
  });
  return {
    write: async () => {
      log.push(`start ${name}`);
      await done;
      log.push(`end ${name}`);
    },
    finish,
  };
}

const flushMicrotasks = () => new Promise((r) => setImmediate(r));

describe('WriteQueue', () => {
  it('writes one key at a time in submission order, other keys in parallel', async () => {
    const log: string[] = [];
    const q = new WriteQueue();
    const a1 = gate(log, 'a1');
    const a2 = gate(log, 'a2');
    const b1 = gate(log, 'b1');
    const p1 = q.submit('a', a1.write);
    await flushMicrotasks();
    const p2 = q.submit('a', a2.write);
    const p3 = q.submit('b', b1.write);
    await flushMicrotasks();
    // a2 waits for a1 (same object); b1 does not.
    expect(log).toEqual(['start a1', 'start b1']);
    expect(q.snapshot()).toEqual({ queued: ['a'], inFlight: ['a', 'b'] });
    a1.finish();
    await p1;
    await flushMicrotasks();
    expect(log).toEqual(['start a1', 'start b1', 'end a1', 'start a2']);
    a2.finish();
    b1.finish();
    await Promise.all([p2, p3]);
    expect(q.snapshot()).toEqual({ queued: [], inFlight: [] });
  });

  it('coalesces: a newer state of a key replaces its waiting one, and both callers get its outcome', async () => {
    const log: string[] = [];
    const q = new WriteQueue();
    const first = gate(log, 'v1');
    const stale = gate(log, 'v2');
    const latest = gate(log, 'v3');
    const p1 = q.submit('a', first.write);
    await flushMicrotasks();
    const p2 = q.submit('a', stale.write);
    const p3 = q.submit('a', latest.write);
    first.finish();
    await p1;
    await flushMicrotasks();
    expect(log).toEqual(['start v1', 'end v1', 'start v3']);
    latest.finish(new Error('409 conflict'));
    await expect(p2).rejects.toThrow('409 conflict');
    await expect(p3).rejects.toThrow('409 conflict');
    expect(log).not.toContain('start v2');
  });

  it('does not retry a failed write: the caller decides again', async () => {
    let calls = 0;
    const q = new WriteQueue();
    await expect(
      q.submit('a', async () => {
        calls++;
        throw new Error('conflict');
      }),
    ).rejects.toThrow('conflict');
    expect(calls).toBe(1);
    // The key is free again.
    await q.submit('a', async () => {
      calls++;
    });
    expect(calls).toBe(2);
  });

  it('bounds the writes in flight and starts the waiting ones in FIFO order', async () => {
    const log: string[] = [];
    const clock = new FakeClock();
    const waited: number[] = [];
    const q = new WriteQueue({
      maxInFlight: 2,
      clock,
      observe: (s) => {
        if ('waitedMs' in s) waited.push(s.waitedMs);
      },
    });
    const gates = ['a', 'b', 'c', 'd'].map((k) => gate(log, k));
    const done = gates.map((g, i) => q.submit('abcd'[i], g.write));
    await flushMicrotasks();
    expect(log).toEqual(['start a', 'start b']);
    expect(q.queued).toBe(2);
    clock.advance(30);
    gates[1].finish();
    await done[1];
    await flushMicrotasks();
    expect(log).toEqual(['start a', 'start b', 'end b', 'start c']);
    gates[0].finish();
    gates[2].finish();
    gates[3].finish();
    await Promise.all(done);
    expect(waited).toEqual([0, 0, 30, 30]);
  });

  it('flush waits for every queued and running write', async () => {
    const log: string[] = [];
    const q = new WriteQueue({ maxInFlight: 1 });
    const a = gate(log, 'a');
    const b = gate(log, 'b');
    const pa = q.submit('a', a.write);
    const pb = q.submit('b', b.write);
    let flushed = false;
    const f = q.flush().then(() => (flushed = true));
    await flushMicrotasks();
    expect(flushed).toBe(false);
    a.finish();
    await pa;
    await flushMicrotasks();
    expect(flushed).toBe(false);
    b.finish();
    await Promise.all([pb, f]);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b']);
  });

  it('abandon (leadership lost): waiting writes never start and reject; running ones finish', async () => {
    const log: string[] = [];
    const q = new WriteQueue({ maxInFlight: 1 });
    const a = gate(log, 'a');
    const b = gate(log, 'b');
    const pa = q.submit('a', a.write);
    const pb = q.submit('b', b.write);
    await flushMicrotasks();
    let abandoned = false;
    const stopped = q.abandon().then(() => (abandoned = true));
    await expect(pb).rejects.toBeInstanceOf(WritesAbandonedError);
    await flushMicrotasks();
    expect(abandoned).toBe(false); // a is still out
    a.finish();
    await Promise.all([pa, stopped]);
    expect(log).toEqual(['start a', 'end a']);
    await expect(q.submit('c', async () => undefined)).rejects.toBeInstanceOf(WritesAbandonedError);
  });

  it('refuses a bad maxInFlight, naming the option', () => {
    expect(() => new WriteQueue({ maxInFlight: 0 })).toThrow(/maxInFlight must be an integer ≥ 1, got 0/);
  });
});
