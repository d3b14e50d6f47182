/** The guest kernel command line (upstream §4.4, adapted to this guest's initramfs). */
import { ArchInfo } from './arch';
import { CpuScalingMode } from './runtime-iso';

export interface KernelCmdlineOptions {
  readonly arch: ArchInfo;
  /** Console device; default the first serial port (ttyS0 / ttyAMA0). Upstream uses ttyS1 or hvc0. */
  readonly console?: string;
  readonly cpuScalingMode?: CpuScalingMode;
  /** SysfsScaling: CPUs online at boot (`maxcpus=`); the agent onlines more on PUT /cpu. */
  readonly bootCpus?: number;
  /** memory_hotplug.auto_movable_ratio (upstream default 301, shipped 401). */
  readonly autoMovableRatio?: number;
  readonly hostname?: string;
  /** Kernel log level on the console: every console line costs time under TCG. Default 4 (warnings). */
  readonly loglevel?: number;
  readonly extra?: readonly string[];
}

export function guestKernelCmdline(o: KernelCmdlineOptions): string {
  const parts = [
    'panic=-1', // with QEMU -no-reboot a guest panic ends QEMU instead of hanging
    'init=/neonvm/bin/init',
    'root=/dev/vda',
    'rw',
    `loglevel=${o.loglevel ?? 4}`,
    // Hot-plugged virtio-mem blocks come online by themselves, as ZONE_MOVABLE while the ratio
    // allows it, so they can be unplugged again.
    'memhp_default_state=online',
    'memory_hotplug.online_policy=auto-movable',
    `memory_hotplug.auto_movable_ratio=${o.autoMovableRatio ?? 401}`,
  ];
  if (o.hostname) parts.push(`hostname=${o.hostname}`);
  if (o.cpuScalingMode === 'SysfsScaling') {
    if (!o.bootCpus || o.bootCpus < 1) throw new Error('SysfsScaling needs bootCpus (kernel maxcpus=)');
    parts.push(`maxcpus=${o.bootCpus}`);
  }
  if (o.arch.arch === 'aarch64') parts.push('acpi=on');
  parts.push(`console=${o.console ?? o.arch.serialTty}`);
  parts.push(...(o.extra ?? []));
  return parts.join(' ');
}
