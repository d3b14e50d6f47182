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
