/**
 * buildQemuArgs: the QEMU command line, in upstream's order (§4.4) with our changes: QMP only on
 * unix sockets inside the pod (no TCP QMP, upstream pain #8), the interactive serial console on a pty
 * and the kernel console on stdio (→ runner stdout → pod logs), KVM or TCG as probed, an initramfs.
 */
import { MIGRATION_PORT } from '../../crds';
import type { GuestArch } from '../../guest';
import type { DrivePlan } from './disks';
import { tapNicArgs, userNetdev, OVERLAY_TAP, TAP, type NetworkPlan } from './network-plan';
import type { VmShape } from './vm-shape';

export type Incoming = { kind: 'tcp'; host: string; port?: number } | { kind: 'defer' };

export interface HostFacts {
  readonly arch: GuestArch;
  readonly accel: 'kvm' | 'tcg';
  readonly kernelPath: string;
  readonly initrdPath?: string;
  /** arm64 only: UEFI firmware (upstream passes it; direct kernel boot works without). */
  readonly firmwarePath?: string;
  readonly qmpSocket: string;
  readonly qmpManualSocket: string;
  /**
   * Upstream's log channel: a unix socket (QEMU listens) behind the guest's virtio-serial port
   * `tech.neon.log.0`; what guest programs write there the runner copies to its stdout (pod logs),
   * without the serial console's ~115200 baud limit (upstream pain #15).
   */
  readonly logSocket?: string;
  /** `-qemu-disk-cache-settings` (upstream default `cache=none`). */
  readonly diskCacheSettings: string;
  readonly useVirtioConsole: boolean;
  readonly network: NetworkPlan;
  /** The overlay NIC (eth1), when `spec.extraNetwork` is attached (tap mode only; the default NIC's backing). */
  readonly overlay?: { readonly mac: string };
  readonly incoming?: Incoming;
  readonly cmdline: string;
  readonly name: string;
}

/** Device id of the virtio-mem device (upstream `vm0`); memory scaling `qom-set`s it. */
export const VIRTIO_MEM_ID = 'vm0';
export const VIRTIO_MEM_BACKEND_ID = 'vmem0';
export const VIRTIO_MEM_BLOCK_SIZE = '8M';

function drive(d: DrivePlan, cache: string): string {
  const opts = [`id=${d.id}`, `file=${d.path}`, `format=${d.format}`, 'if=virtio', `media=${d.media}`];
  if (d.id === 'rootdisk') opts.push('index=0');
  if (d.readOnly) opts.push('readonly=on');
  opts.push(d.media === 'cdrom' ? 'cache=none' : cache);
  if (d.discard) opts.push('discard=unmap');
  return opts.join(',');
}

/**
 * The versioned machine type every runner starts QEMU with, never the bare `q35`/`virt` alias
 * (upstream's choice), which means the newest machine of whichever QEMU runs: `pc-q35-7.2` under
 * Debian 12's QEMU 7.2 but `pc-q35-10.0` under bookworm-backports' 10.0, and a migration stream
 * carries the source's device state for its own machine, which the target must start identically. A
 * rollout of a new runner image migrates VMs from old runner pods to new ones (and can roll back), so
 * both sides pin the machine of the oldest QEMU a release may meet: Debian 12's 7.2, which every QEMU
 * since keeps (QEMU retires a versioned machine type after 6 years). Raise it only once no runner pod
 * with the older QEMU can be a migration's source or target.
 */
export const MACHINE_TYPES: Readonly<Record<GuestArch, string>> = { amd64: 'pc-q35-7.2', arm64: 'virt-7.2' };

export function buildQemuArgs(shape: VmShape, drives: readonly DrivePlan[], host: HostFacts): string[] {
  const a: string[] = [];
  a.push('-name', host.name);
  a.push('-machine', MACHINE_TYPES[host.arch]);
  a.push('-nographic', '-no-reboot', '-nodefaults', '-only-migratable', '-audiodev', 'none,id=noaudio');
  // ttyS0 / ttyAMA0: the interactive console, a pty (`screen /dev/pts/N`); its path comes from query-chardev.
  a.push('-chardev', 'pty,id=serial0', '-serial', 'chardev:serial0');
  a.push('-msg', 'timestamp=on');
  a.push('-qmp', `unix:${host.qmpSocket},server=on,wait=off`);
  a.push('-qmp', `unix:${host.qmpManualSocket},server=on,wait=off`);
  for (const d of drives) a.push('-drive', drive(d, host.diskCacheSettings));
  // Kernel console → QEMU stdout; signal=off so a Ctrl-C on a terminal reaches the runner, not QEMU.
  const virtioConsole = host.arch === 'arm64' || host.useVirtioConsole;
  if (virtioConsole || host.logSocket) a.push('-device', 'virtio-serial'); // one bus for both ports
  if (virtioConsole) {
    if (host.arch === 'arm64' && host.firmwarePath) a.push('-bios', host.firmwarePath);
    a.push('-chardev', 'stdio,id=virtio-console,signal=off', '-device', 'virtconsole,chardev=virtio-console');
  } else {
    a.push('-chardev', 'stdio,id=console,signal=off', '-serial', 'chardev:console');
  }
  if (host.logSocket) {
    a.push(
      '-chardev',
      `socket,path=${host.logSocket},server=on,wait=off,id=log`,
      '-device',
      'virtserialport,chardev=log,name=tech.neon.log.0',
    );
  }
  a.push('-accel', host.accel === 'kvm' ? 'kvm' : 'tcg,thread=multi');
  a.push('-cpu', 'max');
  const bootCpus = shape.scalingMode === 'SysfsScaling' ? shape.vcpus.max : shape.vcpus.min;
  a.push('-smp', `cpus=${bootCpus},maxcpus=${shape.vcpus.max},sockets=1,cores=${shape.vcpus.max},threads=1`);
  const { slotBytes, minSlots, maxSlots, useSlots } = shape.memory;
  a.push(
    '-m',
    `size=${BigInt(minSlots) * slotBytes}b,slots=${maxSlots - minSlots},maxmem=${BigInt(maxSlots) * slotBytes}b`,
  );
  if (maxSlots > minSlots) {
    a.push(
      '-object',
      `memory-backend-ram,id=${VIRTIO_MEM_BACKEND_ID},size=${BigInt(maxSlots - minSlots) * slotBytes}b`,
    );
    const requested = BigInt(useSlots - minSlots) * slotBytes;
    a.push(
      '-device',
      `virtio-mem-pci,id=${VIRTIO_MEM_ID},memdev=${VIRTIO_MEM_BACKEND_ID},block-size=${VIRTIO_MEM_BLOCK_SIZE},requested-size=${requested}b`,
    );
  }
  const net = host.network;
  if (net.mode === 'tap') {
    const nic = tapNicArgs('default', TAP, net.mac, net.backing);
    a.push('-netdev', nic.netdev, '-device', nic.device);
    // Second on the PCI bus, so the guest names it eth1 (the kernel `ip=` names eth1).
    if (host.overlay) {
      const overlay = tapNicArgs('overlay', OVERLAY_TAP, host.overlay.mac, net.backing);
      a.push('-netdev', overlay.netdev, '-device', overlay.device);
    }
  } else {
    a.push('-netdev', userNetdev(net), '-device', `virtio-net-pci,netdev=default,mac=${net.mac}`);
  }
  a.push('-kernel', host.kernelPath);
  if (host.initrdPath) a.push('-initrd', host.initrdPath);
  a.push('-append', host.cmdline);
  if (host.incoming) {
    a.push(
      '-incoming',
      host.incoming.kind === 'defer'
        ? 'defer'
        : `tcp:${host.incoming.host}:${host.incoming.port ?? MIGRATION_PORT}`,
    );
  }
  return a;
}
