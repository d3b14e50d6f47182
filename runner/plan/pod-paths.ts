/**
 * Where the runner finds its files. In a pod, upstream's absolute paths (`/vm/images`, `/vm/mounts`,
 * `/vm/ssh`, `/mnt/ssh`) are volume mounts. Our local cluster runs pod containers as host processes
 * and exposes each pod's filesystem view under a per-pod root directory given in NEONVM_POD_ROOT, so
 * every pod path is resolved under that root (`/` in a real container).
 */
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const POD_ROOT_ENV = 'NEONVM_POD_ROOT';

export interface PodPaths {
  /** The pod's filesystem root on this host. */
  readonly root: string;
  /** Disk images (upstream `/vm/images`; rootdisk.qcow2 placed by the init container). */
  readonly images: string;
  /** ConfigMap/Secret volumes of `spec.disks` (upstream `/vm/mounts<mountPath>`). */
  readonly mounts: string;
  /** SSH public key volume (upstream `/vm/ssh`): becomes the guest's authorized_keys ISO. */
  readonly sshPublic: string;
  /** SSH private key for `ssh guest-vm` from the runner container (upstream `/mnt/ssh/id_ed25519`). */
  readonly sshPrivateKey: string;
  /** Runner-owned state: QMP sockets, console link, ssh config, runtime ISO staging. */
  readonly state: string;
  /** Directory of the QMP sockets: `state`, or a short directory when `state` is too deep for a socket path. */
  readonly socketDir: string;
  readonly qmpSocket: string;
  /** Second QMP socket for humans and tools (QEMU serves one client per socket). */
  readonly qmpManualSocket: string;
  /** QEMU's end of the guest log channel (virtio-serial `tech.neon.log.0`). */
  readonly logSocket: string;
  /** Symlink to the guest serial console pty (`screen <state>/console`). */
  readonly consoleLink: string;
  /** hosts file with the `guest-vm` entry (the pod's /etc/hosts). */
  readonly hostsFile: string;
  /** ssh_config making `ssh -F <it> guest-vm` work (HostName, Port, IdentityFile). */
  readonly sshConfig: string;
  /** JSON with the runner's API address and sockets, for `neonvm console/ssh`. */
  readonly runnerInfo: string;
}

/** Resolves a pod-absolute path (e.g. the `-kernelpath` flag value) under the pod root. */
export function inPod(root: string, podPath: string): string {
  return root === '/' ? podPath : join(root, podPath);
}

/**
 * A unix socket path must fit `sun_path` (108 bytes with the NUL). Pod roots of the local cluster are
 * deep (`/tmp/neonvm-cluster-XXXX/nodes/<node>/pods/<ns>_<pod>_<uid>/rootfs/...`), so sockets then live
 * in a short directory derived from the state directory (stable, so tools can recompute it; also
 * recorded in runner.json) under the temp directory: the container's /tmp, or the pod-private TMPDIR
 * the local node agent sets (removed with the pod, so even a SIGKILLed runner leaves nothing behind).
 */
export const MAX_SOCKET_PATH = 100;

export function socketDirFor(state: string, tempDir = tmpdir()): string {
  if (join(state, 'qmp-manual.sock').length <= MAX_SOCKET_PATH) return state;
  const name = `neonvm-qmp-${createHash('sha256').update(state).digest('hex').slice(0, 16)}`;
  const inTemp = join(tempDir, name);
  return join(inTemp, 'qmp-manual.sock').length <= MAX_SOCKET_PATH ? inTemp : join('/tmp', name);
}

export function podPaths(root: string, stateDir?: string): PodPaths {
  const state = stateDir ?? inPod(root, '/vm/runner');
  const socketDir = socketDirFor(state);
  return {
    root,
    images: inPod(root, '/vm/images'),
    mounts: inPod(root, '/vm/mounts'),
    sshPublic: inPod(root, '/vm/ssh'),
    sshPrivateKey: inPod(root, '/mnt/ssh/id_ed25519'),
    state,
    socketDir,
    qmpSocket: join(socketDir, 'qmp.sock'),
    qmpManualSocket: join(socketDir, 'qmp-manual.sock'),
    logSocket: join(socketDir, 'log.sock'),
    consoleLink: join(state, 'console'),
    hostsFile: inPod(root, '/etc/hosts'),
    sshConfig: join(state, 'ssh_config'),
    runnerInfo: join(state, 'runner.json'),
  };
}
