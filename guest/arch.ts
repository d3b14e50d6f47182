/**
 * Per-architecture facts of the guest build and of QEMU. Everything that differs between amd64
 * and arm64 lives here so the build and the runner never branch on the arch name themselves.
 *
 * One vocabulary: the API's `spec.targetArchitecture` names (`amd64`, `arm64`), which are also
 * Debian's package architectures, GOARCH and OCI platform names. The kernel's and QEMU's names
 * (`x86_64`, `aarch64`) appear only inside the facts below.
 */
import type { TargetArchitecture } from '../crds';

/** The API's type under the guest's name: a guest is built and booted for one of these. */
export type GuestArch = TargetArchitecture;

export interface ArchInfo {
  /** Also the Debian architecture (`apt-get download pkg:<arch>`) and GOARCH of the guest agent. */
  readonly arch: GuestArch;
  /** Multiarch triplet: Debian's library directory name. */
  readonly triplet: string;
  /** Dynamic loader file name (in /lib/<triplet>/ of libc6). */
  readonly loader: string;
  /** Debian metapackage that depends on the current cloud kernel image package. */
  readonly kernelMetapackage: string;
  /** Whether the kernel package ships a compressed bzImage (x86) or a plain Image (arm64). */
  readonly kernelFormat: 'bzImage' | 'Image';
  /** First serial port as the guest names it (kernel console, autologin shell). */
  readonly serialTty: string;
  readonly qemuBinary: string;
  /** Node's `process.arch` of a host that can run this arch's binaries natively. */
  readonly nodeArch: string;
}

const ARCHES: Readonly<Record<GuestArch, ArchInfo>> = {
  amd64: {
    arch: 'amd64',
    triplet: 'x86_64-linux-gnu',
    loader: 'ld-linux-x86-64.so.2',
    kernelMetapackage: 'linux-image-cloud-amd64',
    kernelFormat: 'bzImage',
    serialTty: 'ttyS0',
    qemuBinary: 'qemu-system-x86_64',
    nodeArch: 'x64',
  },
  arm64: {
    arch: 'arm64',
    triplet: 'aarch64-linux-gnu',
    loader: 'ld-linux-aarch64.so.1',
    kernelMetapackage: 'linux-image-cloud-arm64',
    kernelFormat: 'Image',
    serialTty: 'ttyAMA0',
    qemuBinary: 'qemu-system-aarch64',
    nodeArch: 'arm64',
  },
};

export const GUEST_ARCHES = Object.keys(ARCHES) as readonly GuestArch[];

export function archInfo(arch: GuestArch): ArchInfo {
  return ARCHES[arch];
}

/** The guest arch matching the host (the default everywhere); `nodeArch` is Node's `process.arch`. */
export function hostGuestArch(nodeArch: string = process.arch): GuestArch {
  const arch = GUEST_ARCHES.find((a) => ARCHES[a].nodeArch === nodeArch);
  if (!arch) throw new Error(`unsupported host architecture ${nodeArch}`);
  return arch;
}
