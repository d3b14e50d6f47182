/**
 * The QMP client against a real QEMU (no guest: `-S` keeps the vCPUs stopped, so this is fast):
 * negotiation, typed results, QMP error classes, events, and the SHUTDOWN event on quit.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { archInfo, hostGuestArch } from '../../guest';
import { QemuProcess, killAllQemu, liveQemuPids, spawnQemu } from '../qemu/qemu-process';
import { QmpClient } from './client';
import { QmpCommandError } from './errors';
import { HotpluggableCpu, StatusInfo } from './types';

describe('QmpClient against QEMU', () => {
  let dir: string;
  let qemu: QemuProcess;
  let qmp: QmpClient;
  let connectMs: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'neonvm-qmp-int-'));
    const sock = join(dir, 'qmp.sock');
    const x86 = hostGuestArch() === 'amd64';
    const started = Date.now();
    // prettier-ignore
    qemu = spawnQemu(archInfo(hostGuestArch()).qemuBinary, [
      '-machine', x86 ? 'q35' : 'virt', '-accel', 'tcg', '-cpu', 'max', '-m', '128', '-S',
      '-smp', 'cpus=1,maxcpus=2,sockets=1,cores=2,threads=1',
      '-nodefaults', '-display', 'none', '-no-reboot', '-qmp', `unix:${sock},server=on,wait=off`,
    ]);
    qmp = await QmpClient.connect({ socketPath: sock, connectTimeoutMs: 10_000 });
    connectMs = Date.now() - started;
  }, 20_000);

  afterAll(async () => {
    await qmp?.close();
    await killAllQemu();
    expect(liveQemuPids()).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('connects and negotiates right after spawn', () => {
    expect(qmp.greeting?.QMP.version.qemu.major).toBeGreaterThanOrEqual(7);
    console.log(`QMP connected ${connectMs} ms after spawn`);
  });

  it('returns typed results', async () => {
    const status = await qmp.execute<StatusInfo>('query-status');
    expect(status).toMatchObject({ running: false, status: 'prelaunch' });
    const cpus = await qmp.execute<HotpluggableCpu[]>('query-hotpluggable-cpus');
    expect(cpus.filter((c) => c['qom-path']).length).toBe(1);
    expect(cpus.length).toBe(2);
  });

  it('reports QEMU errors with their class', async () => {
    await expect(qmp.execute('device_del', { id: 'nope' })).rejects.toMatchObject({
      errorClass: 'DeviceNotFound',
    });
    const err = await qmp.execute('no-such-command').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QmpCommandError);
    expect((err as QmpCommandError).errorClass).toBe('CommandNotFound');
  });

  it('delivers RESUME and STOP events', async () => {
    const resumed = qmp.waitForEvent('RESUME', undefined, 5000);
    await qmp.execute('cont');
    await resumed;
    const stopped = qmp.waitForEvent('STOP', undefined, 5000);
    await qmp.execute('stop');
    await stopped;
  });

  it('sees SHUTDOWN on quit and QEMU exits', async () => {
    const shutdown = qmp.waitForEvent('SHUTDOWN', (e) => e.data.reason === 'host-qmp-quit', 5000);
    await qmp.execute('quit');
    await shutdown;
    expect(await qemu.exited).toBe(0);
  });
});
