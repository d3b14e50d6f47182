/**
 * Per-architecture facts of the guest build and of QEMU. Everything that differs between x86_64
 * and aarch64 lives here so the build and the runner never branch on the arch name themselves.
 */
export type GuestArch = 'x86_64' | 'aarch64';

export interface ArchInfo {
  readonly arch: GuestArch;
  /** Debian architecture name (`apt-get download pkg:<debArch>`). */
  readonly debArch: string;
  /** GOARCH for the guest agent. */
  readonly goArch: string;
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
  x86_64: {
    arch: 'x86_64',
    debArch: 'amd64',
    goArch: 'amd64',
    triplet: 'x86_64-linux-gnu',
    loader: 'ld-linux-x86-64.so.2',
    kernelMetapackage: 'linux-image-cloud-amd64',
    kernelFormat: 'bzImage',
    serialTty: 'ttyS0',
    qemuBinary: 'qemu-system-x86_64',
    nodeArch: 'x64',
  },
  aarch64: {
    arch: 'aarch64',
    debArch: 'arm64',
    goArch: 'arm64',
    triplet: 'aarch64-linux-gnu',
    loader: 'ld-linux-aarch64.so.1',
    kernelMetapackage: 'linux-image-cloud-arm64',
    kernelFormat: 'Image',
    serialTty: 'ttyAMA0',
    qemuBinary: 'qemu-system-aarch64',
    nodeArch: 'arm64',
  },
};

export function archInfo(arch: GuestArch): ArchInfo {
  return ARCHES[arch];
}

/** The guest arch matching the host (the default everywhere). */
export function hostGuestArch(): GuestArch {
  if (process.arch === 'x64') return 'x86_64';
  if (process.arch === 'arm64') return 'aarch64';
  throw new Error(`unsupported host architecture ${process.arch}`);
}
