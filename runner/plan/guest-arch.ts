/**
 * Which architecture a VM's guest is: `spec.targetArchitecture` when set (upstream uses it for node
 * affinity; here the runner also boots the matching QEMU, kernel and initramfs, emulated under TCG
 * on a host of the other architecture), else the host's. Pure.
 */
import type { VirtualMachineSpec } from '../../crds';
import { hostGuestArch, type GuestArch } from '../../guest';

export function planGuestArch(
  spec: Pick<VirtualMachineSpec, 'targetArchitecture'>,
  nodeArch: string = process.arch,
): GuestArch {
  return spec.targetArchitecture ?? hostGuestArch(nodeArch);
}

/** KVM only accelerates guests of the host's own architecture; anything else is emulated. */
export function needsEmulation(arch: GuestArch, nodeArch: string = process.arch): boolean {
  return arch !== hostGuestArch(nodeArch);
}
