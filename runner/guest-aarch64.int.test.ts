/**
 * The arm64 guest under TCG on any host (opt-in: NEONVM_TEST_AARCH64=1; needs
 * `dpkg --add-architecture arm64 && apt-get update`, qemu-system-arm and, for the power button,
 * qemu-efi-aarch64). QEMU 7.2 `virt` has no vCPU hot-plug, so this is SysfsScaling only.
 *
 * Firmware matters: with direct kernel boot the machine describes itself by device tree, where the
 * power button is a gpio-keys device that Debian's arm64 cloud kernel does not build; with UEFI
 * (QEMU_EFI.fd) it is ACPI, and the ACPI button reaches the agent. Upstream passes UEFI too.
 */
import { existsSync } from 'node:fs';
import { ensureGuestArtifacts } from '../guest';
import { GuestVm, bootGuest } from './testing/guest-vm';
import { killAllQemu, liveQemuPids } from './qemu/qemu-process';

const UEFI = '/usr/share/qemu-efi-aarch64/QEMU_EFI.fd';
const enabled = process.env.NEONVM_TEST_AARCH64 === '1';
const MiB = 1024 * 1024;

(enabled ? describe : describe.skip)('aarch64 guest (TCG, UEFI)', () => {
  let vm: GuestVm;

  beforeAll(async () => {
    const artifacts = await ensureGuestArtifacts({ arch: 'arm64' });
    vm = await bootGuest({
      artifacts,
      accel: { accel: 'tcg', reason: 'foreign architecture' },
      bios: existsSync(UEFI) ? UEFI : undefined,
      cpus: { boot: 2, max: 2 },
      memory: { baseMiB: 512, hotplugMiB: 512 },
      runtime: {
        cpuScalingMode: 'SysfsScaling',
        command: ['sh', '-c', 'echo arm64-workload-ok; exec sleep 100000'],
      },
      sysfsBootCpus: 1,
      readyTimeoutMs: 180_000,
    });
    console.log(`aarch64 boot to ready (TCG${existsSync(UEFI) ? ', UEFI' : ''}): ${vm.readyAfterMs} ms`);
  }, 600_000);

  afterAll(async () => {
    await vm?.stop();
    await killAllQemu();
    expect(liveQemuPids()).toEqual([]);
  });

  const status = async () =>
    (await (await fetch(`${vm.agentUrl}/status`)).json()) as { onlineCpus: number[]; memTotalBytes: number };

  it('runs the workload and scales CPUs through sysfs', async () => {
    await vm.waitForConsole(/arm64-workload-ok/, 30_000);
    expect((await status()).onlineCpus).toEqual([0]);
    expect((await fetch(`${vm.agentUrl}/cpu`, { method: 'PUT', body: '2000' })).status).toBe(200);
    expect((await status()).onlineCpus).toEqual([0, 1]);
  }, 60_000);

  it('grows memory with virtio-mem', async () => {
    const before = (await status()).memTotalBytes;
    await vm.qmp.execute('qom-set', { path: 'vm0', property: 'requested-size', value: 256 * MiB });
    const deadline = Date.now() + 20_000;
    while ((await status()).memTotalBytes < before + 250 * MiB) {
      if (Date.now() > deadline) throw new Error('memory did not grow');
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 30_000);

  (existsSync(UEFI) ? it : it.skip)(
    'powers off on system_powerdown (ACPI button via UEFI)',
    async () => {
      const shutdown = vm.qmp.waitForEvent('SHUTDOWN', undefined, 60_000);
      await vm.qmp.execute('system_powerdown');
      expect((await shutdown).data.guest).toBe(true);
      expect(await vm.qemu.exited).toBe(0);
    },
    70_000,
  );
});
