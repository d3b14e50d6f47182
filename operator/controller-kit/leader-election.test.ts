import { FakeClock } from './clock';
import { LeaderElector, MemoryLeaseStore } from './leader-election';
import { silentLogger } from './logger';

function elector(identity: string, store: MemoryLeaseStore, clock: FakeClock): LeaderElector {
  return new LeaderElector({
    identity,
    store,
    clock,
    log: silentLogger(),
    onStartedLeading: () => undefined,
    onStoppedLeading: () => undefined,
  });
}

describe('LeaderElector.tryAcquireOrRenew', () => {
  it('lets one candidate hold the lease while it renews', async () => {
    const clock = new FakeClock();
    const store = new MemoryLeaseStore();
    const a = elector('a', store, clock);
    const b = elector('b', store, clock);
    expect(await a.tryAcquireOrRenew()).toBe(true);
    expect(await b.tryAcquireOrRenew()).toBe(false);
    for (let i = 0; i < 10; i++) {
      clock.advance(2000);
      expect(await a.tryAcquireOrRenew()).toBe(true);
      expect(await b.tryAcquireOrRenew()).toBe(false);
    }
  });

  it('lets another candidate take over once the holder stopped renewing for the lease duration', async () => {
    const clock = new FakeClock();
    const store = new MemoryLeaseStore();
    const a = elector('a', store, clock);
    const b = elector('b', store, clock);
    await a.tryAcquireOrRenew();
    clock.advance(1_000);
    expect(await b.tryAcquireOrRenew()).toBe(false); // b observes the record renewed 1 s ago
    clock.advance(13_000);
    expect(await b.tryAcquireOrRenew()).toBe(false);
    clock.advance(1_000);
    expect(await b.tryAcquireOrRenew()).toBe(true); // 15 s after the last renewal
    const record = await store.get();
    expect(record).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    expect(await a.tryAcquireOrRenew()).toBe(false);
  });

  it('hands over at once after a voluntary release', async () => {
    const clock = new FakeClock();
    const store = new MemoryLeaseStore();
    const a = elector('a', store, clock);
    const b = elector('b', store, clock);
    await a.tryAcquireOrRenew();
    const current = (await store.get())!;
    await store.update({ ...current, holderIdentity: '', leaseDurationSeconds: 1 });
    expect(await b.tryAcquireOrRenew()).toBe(true);
  });
});

/** A store whose requests can be made to hang forever (an API connection that stops answering). */
class HangingStore extends MemoryLeaseStore {
  hang = false;
  override get(): ReturnType<MemoryLeaseStore['get']> {
    return this.hang ? new Promise(() => undefined) : super.get();
  }
}

/** Advances the fake clock in small steps, letting promise callbacks run in between. */
async function run(clock: FakeClock, ms: number, step = 100): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    clock.advance(step);
    for (let i = 0; i < 10; i++) await Promise.resolve();
  }
}

describe('LeaderElector: renew deadline', () => {
  it('a leader whose API connection hangs steps down at the renew deadline, before a standby can take over', async () => {
    const clock = new FakeClock();
    const store = new HangingStore();
    const events: string[] = [];
    const mk = (identity: string, s: MemoryLeaseStore) =>
      new LeaderElector({
        identity,
        store: s,
        clock,
        log: silentLogger(),
        onStartedLeading: () => events.push(`${identity} leads at ${clock.now() - start}`),
        onStoppedLeading: () => events.push(`${identity} stepped down at ${clock.now() - start}`),
      });
    const start = clock.now();
    const leader = mk('a', store);
    leader.start();
    await run(clock, 100);
    expect(leader.isLeader).toBe(true);
    // The standby talks to the API server over its own, healthy connection.
    const standby = mk('b', {
      get: () => MemoryLeaseStore.prototype.get.call(store),
      create: (r) => MemoryLeaseStore.prototype.create.call(store, r),
      update: (r) => MemoryLeaseStore.prototype.update.call(store, r),
    } as MemoryLeaseStore);
    standby.start();
    await run(clock, 4_000); // renewals at 0, 2 s, 4 s
    store.hang = true; // from the renewal at ~4 s on, the leader's requests never return
    await run(clock, 20_000);
    expect(leader.isLeader).toBe(false);
    expect(standby.isLeader).toBe(true);
    const down = Number(/a stepped down at (\d+)/.exec(events.join('\n'))?.[1]);
    const up = Number(/b leads at (\d+)/.exec(events.join('\n'))?.[1]);
    expect(down).toBeLessThanOrEqual(4_100 + 10_000); // last successful renewal + renew deadline
    expect(up).toBeGreaterThanOrEqual(4_000 + 15_000); // not before a lease duration after it
    expect(down).toBeLessThan(up);
    const stopping = Promise.all([leader.stop(false), standby.stop(false)]);
    await run(clock, 3_000);
    await stopping;
  });
});
