/**
 * Which architecture a VM's guest is: `spec.targetArchitecture` when set (upstream uses it for node
 * affinity; here the runner also boots the matching QEMU, kernel and initramfs, emulated under TCG
 * on a host of the other architecture), else the host's. Pure.
 */
import type { VirtualMachineSpec } from '../../crds';

export type QemuArch = 'amd64' | 'arm64';

export function hostQemuArch(nodeArch: string = process.arch): QemuArch {
  if (nodeArch === 'x64') return 'amd64';
  if (nodeArch === 'arm64') return 'arm64';
  throw new Error(`unsupported host architecture ${nodeArch}`);
}

export function planGuestArch(
  spec: Pick<VirtualMachineSpec, 'targetArchitecture'>,
  nodeArch: string = process.arch,
): QemuArch {
  return spec.targetArchitecture ?? hostQemuArch(nodeArch);
}

/** The guest build's name for the architecture (guest/: `ensureGuestArtifacts({arch})`). */
export function guestBuildArch(arch: QemuArch): 'x86_64' | 'aarch64' {
  return arch === 'arm64' ? 'aarch64' : 'x86_64';
}

/** KVM only accelerates guests of the host's own architecture; anything else is emulated. */
export function needsEmulation(arch: QemuArch, nodeArch: string = process.arch): boolean {
  return arch !== hostQemuArch(nodeArch);
}
