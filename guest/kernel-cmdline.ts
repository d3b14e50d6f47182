/** The guest kernel command line (upstream §4.4, adapted to this guest's initramfs). */
import { readFileSync } from 'node:fs';
import { ArchInfo } from './arch';
import type { CpuScalingMode } from '../crds';

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
  /**
   * `lpj=`: loops per jiffy. Without it the kernel calibrates the delay loop of every hot-plugged
   * vCPU, which under TCG fails slowly (~0.6 s per CPU plug); see hostLoopsPerJiffy.
   */
  readonly lpj?: number;
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
  if (o.lpj) parts.push(`lpj=${Math.round(o.lpj)}`);
  if (o.hostname) parts.push(`hostname=${o.hostname}`);
  if (o.cpuScalingMode === 'SysfsScaling') {
    if (!o.bootCpus || o.bootCpus < 1) throw new Error('SysfsScaling needs bootCpus (kernel maxcpus=)');
    parts.push(`maxcpus=${o.bootCpus}`);
  }
  if (o.arch.arch === 'arm64') parts.push('acpi=on');
  parts.push(`console=${o.console ?? o.arch.serialTty}`);
  parts.push(...(o.extra ?? []));
  return parts.join(' ');
}

/** First "cpu MHz" of /proc/cpuinfo (x86; undefined where the kernel does not report it). */
export function parseCpuMhz(cpuinfo: string): number | undefined {
  const m = /^cpu MHz\s*:\s*([\d.]+)/m.exec(cpuinfo);
  return m ? Number(m[1]) : undefined;
}

/**
 * lpj for a guest on this host: TSC cycles per jiffy, which is what x86 guests compute for the
 * boot CPU (guest TSC ≈ host TSC under both KVM and TCG). `hz` is the guest kernel's CONFIG_HZ
 * (GuestArtifacts.manifest.kernelHz). Undefined when the host does not report its clock.
 */
export function hostLoopsPerJiffy(
  hz: number,
  cpuinfo: string = readFileSync('/proc/cpuinfo', 'utf8'),
): number | undefined {
  const mhz = parseCpuMhz(cpuinfo);
  return mhz ? Math.round((mhz * 1e6) / hz) : undefined;
}
