import { FakeClock } from '../../host';
import { vmShape } from '../plan/vm-shape';
import { defaultedSpec } from '../../crds/testing';
import { useFakeQmp } from '../qmp/testing/use-fake-qmp';
import { GuestAgent } from './guest-agent';
import { QemuVm } from './qemu-vm';

describe('QemuVm (against a fake QMP server, on a manual clock)', () => {
  const fake = useFakeQmp((server) => {
    server.handle('query-status', () => ({ return: { running: false, status: 'inmigrate' } }));
    server.handle('query-memory-size-summary', () => ({ return: { 'base-memory': 1024 ** 3 } }));
    server.handle('query-cpus-fast', () => ({ return: [{ 'cpu-index': 0 }] }));
  });

  it('reports uptime and probes readiness on its clock', async () => {
    const clock = new FakeClock();
    const vm = new QemuVm({
      qmp: fake.qmp,
      agent: new GuestAgent('http://127.0.0.1:9', 'token'), // never asked: QEMU does not run the guest
      shape: vmShape(defaultedSpec()),
      accel: 'tcg',
      arch: 'amd64',
      networkMode: 'user',
      degraded: [],
      role: 'target',
      log: () => undefined,
      clock,
    });
    clock.advance(90_000);
    expect((await vm.status()).uptimeSeconds).toBe(90);

    const probes = () => fake.server.received.filter((r) => r.execute === 'query-status').length;
    const before = probes();
    vm.watchGuest(async () => undefined, 50);
    while (clock.pendingTimers === 0) await new Promise((r) => setImmediate(r));
    expect(probes()).toBe(before + 1);
    expect(vm.readiness()).toEqual({ ready: false, reason: 'waiting for the incoming migration' });
    clock.advance(50); // the next probe is due only when the clock says so
    while (probes() === before + 1) await new Promise((r) => setImmediate(r));
    vm.stop();
    while (clock.pendingTimers > 0) await new Promise((r) => setImmediate(r)); // (a probe in flight)
    clock.advance(60_000);
    await new Promise((r) => setTimeout(r, 20));
    expect(probes()).toBe(before + 2); // stopped: no further probe
  });

  it("GET /qemu carries QEMU's error-desc of a failed migration", async () => {
    fake.server.handle('query-status', () => ({ return: { running: true, status: 'running' } }));
    fake.server.handle('query-migrate', () => ({
      return: {
        status: 'failed',
        'error-desc': "Failed to connect to '10.244.2.2:20187': Connection timed out",
      },
    }));
    const vm = new QemuVm({
      qmp: fake.qmp,
      agent: new GuestAgent('http://127.0.0.1:9', 'token'),
      shape: vmShape(defaultedSpec()),
      accel: 'tcg',
      arch: 'amd64',
      networkMode: 'user',
      degraded: [],
      role: 'source',
      log: () => undefined,
      clock: new FakeClock(),
    });
    expect(await vm.qemuState()).toMatchObject({
      qemuStatus: 'running',
      guest: 'running',
      migration: { status: 'failed' },
      migrationError: "Failed to connect to '10.244.2.2:20187': Connection timed out",
    });
  });
});
