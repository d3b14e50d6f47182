import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../host';
import { vmShape } from '../plan/vm-shape';
import { defaultedSpec } from '../../crds/testing';
import { QmpClient } from '../qmp';
import { FakeQmpServer } from '../qmp/testing/fake-qmp-server';
import { MemoryScaler } from './memory-scaler';
import { VmError } from './vm-error';

const GiB = 1024 ** 3;

describe('MemoryScaler (against a fake QMP server, on a manual clock)', () => {
  let dir: string;
  let server: FakeQmpServer;
  let qmp: QmpClient;
  const clock = new FakeClock();
  const shape = vmShape(defaultedSpec({ memorySlotSize: '1Gi', memorySlots: { min: 1, max: 3, use: 1 } }));

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'neonvm-mem-test-'));
    server = new FakeQmpServer(join(dir, 'qmp.sock'));
    server.handle('qom-set', () => ({ return: {} }));
    await server.listen();
    // QMP on real time: the clock under test is the scaler's alone.
    qmp = await QmpClient.connect({ socketPath: server.socketPath });
  });
  afterEach(async () => {
    await qmp.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Lets real I/O happen until the scaler waits on the clock, then moves the clock on. */
  async function advanceWhileWaiting(done: () => boolean, stepMs: number): Promise<void> {
    while (!done()) {
      await new Promise((r) => setImmediate(r));
      if (clock.pendingTimers > 0) clock.advance(stepMs); // the scaler waits on its clock
    }
  }

  it('gives up after timeoutMs of clock time when the guest never plugs the memory', async () => {
    server.handle('query-memory-size-summary', () => ({
      return: { 'base-memory': GiB, 'plugged-memory': 0 },
    }));
    const scaler = new MemoryScaler(qmp, shape, clock);
    let error: unknown;
    const setting = scaler.set(3, 1000).catch((e: unknown) => (error = e));
    await advanceWhileWaiting(() => error !== undefined, 20);
    await setting;
    expect(error).toBeInstanceOf(VmError);
    expect(error).toMatchObject({ status: 504 });
    expect((error as Error).message).toMatch(/timed out after 1000 ms waiting for 3 memory slots/);
    // One look at t = 0, 20, ..., 1000 ms of clock time: the deadline, not the wall clock, ends it.
    expect(server.received.filter((r) => r.execute === 'query-memory-size-summary')).toHaveLength(51);
    expect(server.received.find((r) => r.execute === 'qom-set')?.arguments).toEqual({
      path: 'vm0',
      property: 'requested-size',
      value: 2 * GiB,
    });
  });

  it('returns as soon as QEMU reports the memory plugged', async () => {
    let plugged = 0;
    server.handle('query-memory-size-summary', () => ({
      return: { 'base-memory': GiB, 'plugged-memory': plugged },
    }));
    const scaler = new MemoryScaler(qmp, shape, clock);
    let state: unknown;
    const setting = scaler.set(2, 1000).then((s) => (state = s));
    await advanceWhileWaiting(() => {
      if (server.received.filter((r) => r.execute === 'query-memory-size-summary').length >= 3) plugged = GiB;
      return state !== undefined;
    }, 20);
    await setting;
    expect(state).toMatchObject({ slots: 2, requestedSlots: 2, pluggedBytes: GiB });
  });
});
