import { FakeClock } from '../../host';
import { vmShape } from '../plan/vm-shape';
import { defaultedSpec } from '../../crds/testing';
import { useFakeQmp } from '../qmp/testing/use-fake-qmp';
import { MemoryScaler } from './memory-scaler';
import { VmError } from './vm-error';

const GiB = 1024 ** 3;

describe('MemoryScaler (against a fake QMP server, on a manual clock)', () => {
  const clock = new FakeClock();
  const shape = vmShape(defaultedSpec({ memorySlotSize: '1Gi', memorySlots: { min: 1, max: 3, use: 1 } }));
  const fake = useFakeQmp((server) => server.handle('qom-set', () => ({ return: {} })));

  /** Lets real I/O happen until the scaler waits on the clock, then moves the clock on. */
  async function advanceWhileWaiting(done: () => boolean, stepMs: number): Promise<void> {
    while (!done()) {
      await new Promise((r) => setImmediate(r));
      if (clock.pendingTimers > 0) clock.advance(stepMs); // the scaler waits on its clock
    }
  }

  it('gives up after timeoutMs of clock time when the guest never plugs the memory', async () => {
    fake.server.handle('query-memory-size-summary', () => ({
      return: { 'base-memory': GiB, 'plugged-memory': 0 },
    }));
    const scaler = new MemoryScaler(fake.qmp, shape, clock);
    let error: unknown;
    const setting = scaler.set(3, 1000).catch((e: unknown) => (error = e));
    await advanceWhileWaiting(() => error !== undefined, 20);
    await setting;
    expect(error).toBeInstanceOf(VmError);
    expect(error).toMatchObject({ status: 504 });
    expect((error as Error).message).toMatch(/timed out after 1000 ms waiting for 3 memory slots/);
    // One look at t = 0, 20, ..., 1000 ms of clock time: the deadline, not the wall clock, ends it.
    expect(fake.server.received.filter((r) => r.execute === 'query-memory-size-summary')).toHaveLength(51);
    expect(fake.server.received.find((r) => r.execute === 'qom-set')?.arguments).toEqual({
      path: 'vm0',
      property: 'requested-size',
      value: 2 * GiB,
    });
  });

  it('returns as soon as QEMU reports the memory plugged', async () => {
    let plugged = 0;
    fake.server.handle('query-memory-size-summary', () => ({
      return: { 'base-memory': GiB, 'plugged-memory': plugged },
    }));
    const scaler = new MemoryScaler(fake.qmp, shape, clock);
    let state: unknown;
    const setting = scaler.set(2, 1000).then((s) => (state = s));
    await advanceWhileWaiting(() => {
      if (fake.server.received.filter((r) => r.execute === 'query-memory-size-summary').length >= 3)
        plugged = GiB;
      return state !== undefined;
    }, 20);
    await setting;
    expect(state).toMatchObject({ slots: 2, requestedSlots: 2, pluggedBytes: GiB });
  });
});
