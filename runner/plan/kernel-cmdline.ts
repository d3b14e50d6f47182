/**
 * The guest kernel command line: upstream §4.4, adapted to our guest (initramfs loads the virtio
 * modules, so no `init=`; the kernel console goes to the second serial port, which the runner
 * forwards to its stdout, while the first one is the interactive pty).
 */
import type { GuestArch } from '../../guest';
import { needsEmulation } from './guest-arch';
import type { VmShape } from './vm-shape';

export interface CmdlineInput {
  readonly shape: VmShape;
  readonly arch: GuestArch;
  readonly hostname: string;
  readonly memhpAutoMovableRatio: string;
  readonly useVirtioConsole: boolean;
  readonly appendKernelCmdline?: string;
  /** Overlay network (`extraNetwork`): `ip=` for eth1 from the VM status. */
  readonly extraNet?: { ip: string; mask: string; podName: string };
  /** `lpj=` (see planLoopsPerJiffy). */
  readonly lpj?: number;
}

export function kernelCmdline(input: CmdlineInput): string {
  const parts = [
    'panic=-1',
    'loglevel=6',
    'root=/dev/vda',
    'rw',
    'memhp_default_state=online',
    'memory_hotplug.online_policy=auto-movable',
    `memory_hotplug.auto_movable_ratio=${input.memhpAutoMovableRatio}`,
  ];
  if (input.lpj) parts.push(`lpj=${input.lpj}`);
  if (input.extraNet) {
    const n = input.extraNet;
    parts.push(`ip=${n.ip}:::${n.mask}:${n.podName}:eth1:off`);
  }
  parts.push(`hostname=${input.hostname}`);
  if (input.appendKernelCmdline) parts.push(input.appendKernelCmdline);
  // SysfsScaling boots every vCPU slot but onlines only the minimum; the guest agent onlines the rest.
  if (input.shape.scalingMode === 'SysfsScaling') parts.push(`maxcpus=${input.shape.vcpus.min}`);
  if (input.arch === 'arm64') parts.push('acpi=on', 'console=hvc0');
  else parts.push(input.useVirtioConsole ? 'console=hvc0' : 'console=ttyS1');
  return parts.join(' ');
}

export interface LoopsPerJiffyInput {
  readonly accel: 'kvm' | 'tcg';
  readonly arch: GuestArch;
  /** CONFIG_HZ of the guest kernel, when known (the built-in guest's manifest). */
  readonly kernelHz?: number;
  /** The host's "cpu MHz" (/proc/cpuinfo), when reported. */
  readonly hostCpuMhz?: number;
  readonly nodeArch?: string;
}

/**
 * `lpj=` for the guest kernel, or undefined. Without it the kernel calibrates the delay loop of every
 * hot-plugged vCPU, which under TCG takes ~0.6 s per CPU plug. Given only under TCG (a KVM guest takes
 * the value from the TSC at once) and for an amd64 guest on an amd64 host, where loops per jiffy are
 * TSC cycles per jiffy and the guest's TSC runs at the host's clock.
 */
export function planLoopsPerJiffy(i: LoopsPerJiffyInput): number | undefined {
  if (i.accel !== 'tcg' || i.arch !== 'amd64' || needsEmulation(i.arch, i.nodeArch)) return undefined;
  if (!i.kernelHz || !i.hostCpuMhz) return undefined;
  return Math.round((i.hostCpuMhz * 1e6) / i.kernelHz);
}
