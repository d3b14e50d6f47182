/**
 * What goes into the operator, runner and device plugin images, as data: Debian packages, generated files, image
 * config and OCI labels. Pure, so the recipe is unit-tested and every I/O step just follows it.
 */
import type { GuestArch } from '../guest';
import type { ContainerConfig, LayerEntry, Platform } from '../image/oci';
import { OPERATOR_NODE_FLAGS } from '../constructs/install/operator-node-flags';

export type ImageName = 'operator' | 'runner' | 'device-plugin';

/** Every image a release builds, in build order. */
export const IMAGE_NAMES: readonly ImageName[] = ['operator', 'runner', 'device-plugin'];

/** Where things live inside the images. */
export const IMAGE_PATHS = {
  app: '/app',
  node: '/usr/local/bin/node',
  runnerWrapper: '/usr/bin/runner',
  kernelDir: '/vm/kernel',
  /** NEONVM_CACHE inside the runner image: the built-in guest (`ensureGuestArtifacts`) is found here. */
  cache: '/var/cache/neonvm',
} as const;

/** Debian's name for a platform's architecture equals the OCI one for the two we build. */
export function platformOf(arch: GuestArch): Platform {
  return arch === 'arm64' ? { os: 'linux', architecture: 'arm64' } : { os: 'linux', architecture: 'amd64' };
}

export function nodePackageOf(arch: GuestArch, version: string): string {
  return `node-linux-${arch === 'arm64' ? 'arm64' : 'x64'}@${version}`;
}

export interface DebianSelection {
  /** Architecture-specific packages; their shared-library closure is added at build time. */
  readonly packages: readonly string[];
  /** `Architecture: all` packages (firmware, data), downloaded without an architecture qualifier. */
  readonly archAll: readonly string[];
  /**
   * Packages taken from bookworm-backports instead (the runner's QEMU with `qemu: 'backports'`), at
   * whatever version backports serves at build time; their libraries still come from bookworm.
   */
  readonly backports?: { readonly packages: readonly string[]; readonly archAll: readonly string[] };
}

/**
 * Where the runner image's QEMU comes from:
 * - `debian`: Debian 12's own (7.2), from the machine's apt sources. Under TCG it stops the guest for
 *   a migration's stream (QEMU before 9.0 loses guest writes in a live TCG pre-copy).
 * - `backports`: bookworm-backports' QEMU (10.0.2 on 2026-12-04), whose live pre-copy under TCG keeps
 *   the guest intact and which carries disks over NBD (runner/README.md). Debian's archive serves only
 *   the newest backport, so the version is resolved when the image is built and recorded in it
 *   (`/var/lib/dpkg/status.d/`), never pinned here: a pin would stop building the day backports moves.
 */
export type QemuSource = 'debian' | 'backports';

export const QEMU_SOURCES: readonly QemuSource[] = ['debian', 'backports'];

/**
 * The release's QEMU when none is chosen: backports' (live migration under TCG; proven on 2026-12-04 by
 * the release images test and the real-node suite with it). `debian` stays for builds without access
 * to backports.
 */
export const DEFAULT_QEMU_SOURCE: QemuSource = 'backports';

/** Environment variable choosing the QEMU of release builds (`npm start`'s real nodes, the tests). */
export const QEMU_SOURCE_ENV = 'NEONVM_RELEASE_QEMU';

/** Reads a QEMU source (a flag or `QEMU_SOURCE_ENV`), naming `field` when it is not one (pure). */
export function parseQemuSource(value: string | undefined, field: string): QemuSource {
  if (value === undefined || value === '') return DEFAULT_QEMU_SOURCE;
  if ((QEMU_SOURCES as readonly string[]).includes(value)) return value as QemuSource;
  throw new Error(`${field}: '${value}' is not one of ${QEMU_SOURCES.join(', ')}`);
}

/**
 * A minimal Debian 12 userland: libc, the C++ runtime the Node binary links, a shell and coreutils
 * (the runner pod's init container and `sh -c` probes need them), plus each payload's tools.
 */
const BASE_PACKAGES = ['base-files', 'libc6', 'libgcc-s1', 'libstdc++6', 'dash', 'coreutils'];
/** /etc/services and /etc/protocols, which name resolution of ports and iptables read. */
const BASE_ARCH_ALL = ['netbase'];

export function debianSelection(
  image: ImageName,
  arch: GuestArch,
  qemuSource: QemuSource = DEFAULT_QEMU_SOURCE,
): DebianSelection {
  if (image === 'operator') {
    // Nothing besides node: the operator's certificates are made in-process (operator/pki/x509.ts).
    return { packages: BASE_PACKAGES, archAll: BASE_ARCH_ALL };
  }
  // The device plugin needs nothing besides node (gRPC is JavaScript).
  if (image === 'device-plugin') return { packages: BASE_PACKAGES, archAll: BASE_ARCH_ALL };
  // QEMU's loadable modules (qemu-system-common; TCG, the fallback without /dev/kvm, is one of them)
  // and qemu-img, always of the same build as the emulator.
  const qemu = [arch === 'arm64' ? 'qemu-system-arm' : 'qemu-system-x86', 'qemu-system-common', 'qemu-utils'];
  // SeaBIOS and the iPXE option ROMs: x86 QEMU refuses to start without bios-256k.bin and the
  // virtio-net ROM; qemu-system-data has keymaps and VGA BIOSes for both architectures. Backports
  // ships SeaBIOS (QEMU 10 wants > 1.16.3-1) but no iPXE: that one stays bookworm's.
  const firmware = arch === 'arm64' ? ['qemu-system-data'] : ['qemu-system-data', 'seabios'];
  const fromBackports = qemuSource === 'backports';
  return {
    packages: [
      ...BASE_PACKAGES,
      ...(fromBackports ? [] : qemu),
      'genisoimage',
      'e2fsprogs',
      'iproute2',
      'iptables',
      'dnsmasq-base',
      'openssh-client',
      'screen',
      'util-linux',
      // sysctl: tap networking turns on ip_forward and route_localnet in the pod's namespace.
      'procps',
    ],
    archAll: [
      ...BASE_ARCH_ALL,
      ...(fromBackports ? [] : firmware),
      ...(arch === 'arm64' ? [] : ['ipxe-qemu']),
    ],
    ...(fromBackports ? { backports: { packages: qemu, archAll: firmware } } : {}),
  };
}

/**
 * Parts of the production node_modules no image needs: pino publishes its test suite (700 KB in
 * 9.9.4; 9.3.0 shipped ~400 MB of `pkg` test binaries there).
 */
export const PRUNED_NODE_MODULES: readonly string[] = ['pino/test'];

/** uid/gid of the operator's non-root user (distroless' "nonroot"). */
export const NONROOT_ID = 65532;

/** The runner image's /etc/ssh/ssh_config (upstream's runner image has the same settings). */
export const RUNNER_SSH_CONFIG = [
  'Host *',
  '  LogLevel QUIET',
  '  StrictHostKeyChecking no',
  '  UserKnownHostsFile /dev/null',
  '  IdentityFile /mnt/ssh/id_ed25519',
  '',
].join('\n');

/**
 * Files maintainer scripts would have made (dpkg-deb -x runs none): users, the /bin/sh link,
 * the iptables alternatives, and the runner command.
 */
export function generatedEntries(image: ImageName): LayerEntry[] {
  const entries: LayerEntry[] = [
    {
      kind: 'file',
      path: 'etc/passwd',
      // nobody: dnsmasq drops its privileges to it and refuses to start without it.
      content:
        'root:x:0:0:root:/root:/bin/sh\n' +
        'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' +
        `nonroot:x:${NONROOT_ID}:${NONROOT_ID}:nonroot:/home/nonroot:/usr/sbin/nologin\n`,
    },
    { kind: 'file', path: 'etc/group', content: `root:x:0:\nnonroot:x:${NONROOT_ID}:\n` },
    { kind: 'file', path: 'etc/nsswitch.conf', content: 'passwd: files\ngroup: files\nhosts: files dns\n' },
    { kind: 'symlink', path: 'bin/sh', target: 'dash' },
    { kind: 'dir', path: 'root', mode: 0o700 },
    { kind: 'dir', path: 'tmp', mode: 0o1777 },
  ];
  if (image === 'operator') {
    // Layers are owned by 0:0; the nonroot user gets a writable home of its own via the pod's
    // emptyDir or HOME, so only the directory's presence matters here.
    entries.push({ kind: 'dir', path: 'home/nonroot', mode: 0o777 });
    return entries;
  }
  if (image === 'device-plugin') return entries;
  // Debian selects iptables via update-alternatives in postinst; nft is bookworm's default.
  for (const tool of [
    'iptables',
    'iptables-save',
    'iptables-restore',
    'ip6tables',
    'ip6tables-save',
    'ip6tables-restore',
  ])
    entries.push({
      kind: 'symlink',
      path: `usr/sbin/${tool}`,
      target: 'xtables-nft-multi',
    });
  // What makes `kubectl exec <runner pod> -- ssh guest-vm` work in the container, as upstream's runner
  // image ships it: the key the operator mounts, and no prompt for the guest's host key (each VM has
  // its own under the same name, and a new one after every restart). Debian's file would prompt.
  entries.push({ kind: 'file', path: 'etc/ssh/ssh_config', content: RUNNER_SSH_CONFIG });
  entries.push({
    kind: 'file',
    path: IMAGE_PATHS.runnerWrapper.slice(1),
    mode: 0o755,
    content: `#!/bin/sh\nexec ${IMAGE_PATHS.node} ${IMAGE_PATHS.app}/lib/runner/main.js "$@"\n`,
  });
  return entries;
}

export interface BuildInfo {
  /** package.json version. */
  readonly version: string;
  /** `git rev-parse HEAD`. */
  readonly revision: string;
  /** Repository URL (package.json repository.url, without `.git`). */
  readonly source: string;
  /** SOURCE_DATE_EPOCH: every timestamp in the image. */
  readonly created: Date;
}

const TITLES: Readonly<Record<ImageName, string>> = {
  operator: 'neonvm-operator',
  runner: 'neonvm-runner',
  'device-plugin': 'neonvm-device-plugin',
};

const DESCRIPTIONS: Readonly<Record<ImageName, string>> = {
  operator: 'NeonVM operator: VirtualMachine controllers, admission webhooks and overlay IPAM',
  runner: 'NeonVM runner: runs one QEMU virtual machine per pod and serves the runner API',
  'device-plugin':
    'NeonVM device plugin: offers /dev/kvm and /dev/vhost-net to runner pods as neonvm/kvm and neonvm/vhost-net',
};

/** `org.opencontainers.image.*` keys, used both as config labels and manifest annotations. */
export function ociLabels(image: ImageName, info: BuildInfo): Record<string, string> {
  return {
    'org.opencontainers.image.created': info.created.toISOString(),
    'org.opencontainers.image.description': DESCRIPTIONS[image],
    'org.opencontainers.image.licenses': 'Apache-2.0',
    'org.opencontainers.image.revision': info.revision,
    'org.opencontainers.image.source': info.source,
    'org.opencontainers.image.title': TITLES[image],
    'org.opencontainers.image.version': info.version,
  };
}

export function imageTitle(image: ImageName): string {
  return TITLES[image];
}

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function containerConfig(image: ImageName, info: BuildInfo): ContainerConfig {
  const labels = ociLabels(image, info);
  if (image === 'operator') {
    return {
      Entrypoint: ['node', ...OPERATOR_NODE_FLAGS, `${IMAGE_PATHS.app}/lib/operator/main.js`],
      Env: [`PATH=${PATH}`, 'NODE_ENV=production', 'HOME=/home/nonroot'],
      WorkingDir: IMAGE_PATHS.app,
      User: `${NONROOT_ID}:${NONROOT_ID}`,
      Labels: labels,
      ExposedPorts: { '8080/tcp': {}, '8081/tcp': {}, '9443/tcp': {} },
    };
  }
  if (image === 'device-plugin') {
    // Root: the kubelet's socket directory and kubelet.sock belong to root (the DaemonSet drops every
    // capability).
    return {
      Entrypoint: ['node', `${IMAGE_PATHS.app}/lib/device-plugin/main.js`],
      Env: [`PATH=${PATH}`, 'NODE_ENV=production'],
      WorkingDir: IMAGE_PATHS.app,
      Labels: labels,
      ExposedPorts: { '8081/tcp': {} },
    };
  }
  return {
    // The operator sets `command: [runner, ...]`; the entrypoint serves `docker run <image> -vmspec=...`.
    Entrypoint: ['runner'],
    Env: [`PATH=${PATH}`, 'NODE_ENV=production', `NEONVM_CACHE=${IMAGE_PATHS.cache}`],
    WorkingDir: '/',
    Labels: labels,
  };
}
