/**
 * The guest kernel command line: upstream §4.4, adapted to our guest (initramfs loads the virtio
 * modules, so no `init=`; the kernel console goes to the second serial port, which the runner
 * forwards to its stdout, while the first one is the interactive pty).
 */
import type { GuestArch } from '../../guest';
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
