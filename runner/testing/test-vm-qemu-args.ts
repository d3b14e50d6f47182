/**
 * The reference QEMU command line the guest is tested with (user-mode networking with host
 * forwards instead of the runner's tap + bridge). The runner builds its own from the VM spec; this
 * one documents what the guest needs: kernel + initramfs, root disk as the first virtio disk,
 * runtime ISO, hot-pluggable vCPUs, a virtio-mem device named vm0, the first serial port as console.
 */
import { ArchInfo } from '../../guest';
import { AccelVerdict, accelArgs } from '../qemu/kvm-probe';

export interface HostForward {
  readonly hostPort: number;
  readonly guestPort: number;
}

export interface TestVmQemuOptions {
  readonly arch: ArchInfo;
  readonly accel: AccelVerdict;
  readonly kernel: string;
  readonly initramfs: string;
  /** qcow2 overlay on the cached root disk (the base must stay pristine). */
  readonly rootDisk: string;
  readonly runtimeIso: string;
  readonly sshIso?: string;
  /** boot: vCPUs plugged at start; max: hot-pluggable slots (sockets=1, cores=max). */
  readonly cpus: { readonly boot: number; readonly max: number };
  /** baseMiB: boot memory; hotplugMiB: virtio-mem region (device id vm0), 0 for none. */
  readonly memory: { readonly baseMiB: number; readonly hotplugMiB: number };
  readonly qmpSocket: string;
  readonly forwards: readonly HostForward[];
  readonly cmdline: string;
  /**
   * Firmware image for `-bios` (x86). Default: QEMU's SeaBIOS. `/usr/share/qemu/qboot.rom` (Debian
   * qemu-system-data) skips most of the firmware work and boots the same guest faster under TCG.
   */
  readonly bios?: string;
  /** Unix socket (QEMU listens) behind the guest's virtio-serial port `tech.neon.log.0` (upstream's log channel). */
  readonly logSocket?: string;
}

export function testVmQemuArgs(o: TestVmQemuOptions): string[] {
  const x86 = o.arch.arch === 'amd64';
  const { baseMiB, hotplugMiB } = o.memory;
  // prettier-ignore
  const args = [
    '-machine', x86 ? 'q35' : 'virt',
    ...(o.bios ? ['-bios', o.bios] : []),
    ...accelArgs(o.accel),
    '-nodefaults', '-nographic', '-no-reboot',
    '-serial', 'stdio',
    '-qmp', `unix:${o.qmpSocket},server=on,wait=off`,
    '-smp', `cpus=${o.cpus.boot},maxcpus=${o.cpus.max},sockets=1,cores=${o.cpus.max},threads=1`,
    '-m', hotplugMiB > 0 ? `size=${baseMiB}M,maxmem=${baseMiB + hotplugMiB}M` : `size=${baseMiB}M`,
  ];
  if (hotplugMiB > 0) {
    // prettier-ignore
    args.push(
      '-object', `memory-backend-ram,id=vmem0,size=${hotplugMiB}M`,
      '-device', 'virtio-mem-pci,id=vm0,memdev=vmem0,block-size=8M,requested-size=0',
    );
  }
  // prettier-ignore
  args.push(
    '-drive', `id=rootdisk,file=${o.rootDisk},if=virtio,media=disk,index=0`,
    '-drive', `id=runtime,file=${o.runtimeIso},if=virtio,media=cdrom,readonly=on`,
  );
  if (o.sshIso)
    args.push('-drive', `id=ssh-authorized-keys,file=${o.sshIso},if=virtio,media=cdrom,readonly=on`);
  if (o.logSocket) {
    // prettier-ignore
    args.push(
      '-device', 'virtio-serial',
      '-chardev', `socket,path=${o.logSocket},server=on,wait=off,id=log`,
      '-device', 'virtserialport,chardev=log,name=tech.neon.log.0',
    );
  }
  const fwd = o.forwards.map((f) => `,hostfwd=tcp:127.0.0.1:${f.hostPort}-:${f.guestPort}`).join('');
  // romfile=: no iPXE option ROM to load and run (saves ~1 s of firmware under TCG).
  args.push(
    '-netdev',
    `user,id=default${fwd}`,
    '-device',
    `virtio-net-pci,netdev=default${x86 ? ',romfile=' : ''}`,
  );
  args.push('-kernel', o.kernel, '-initrd', o.initramfs, '-append', o.cmdline);
  return args;
}
