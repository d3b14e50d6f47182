/**
 * The file system of one real node. Each node runs its kubelet and containerd (and everything they
 * start) in a mount namespace of its own, where the standard node paths are bind mounts of directories
 * under the node's directory. So two nodes on one machine never share a socket or a state directory,
 * including the paths the kubelet hard-codes (the device plugin socket
 * /var/lib/kubelet/device-plugins/kubelet.sock), and every tool and manifest written for a real node
 * (crictl's default endpoint, hostPath /var/lib/kubelet/..., /opt/cni/bin) works unchanged. Mounts made
 * inside (the kubelet's volume tmpfs, containerd's overlay rootfs, netns bind mounts) never reach the
 * host's mount table and disappear with the namespace. Pure.
 */
import { join } from 'node:path';

export interface BindMount {
  /** Host path (directory or file). */
  readonly source: string;
  /** Path inside the node's mount namespace. */
  readonly target: string;
  readonly readOnly?: boolean;
}

/** Standard node paths that get a per-node directory (in the node's namespace → under the node dir). */
export const NODE_STATE_PATHS = [
  '/etc/containerd',
  '/etc/kubernetes',
  '/etc/cni/net.d',
  '/var/lib/kubelet',
  '/var/lib/containerd',
  '/var/lib/cni',
  '/var/lib/kube-proxy',
  '/var/log/pods',
  '/var/log/containers',
  '/run/containerd',
  '/run/netns',
] as const;

export interface NodeLayout {
  /** The node's own directory on the host. */
  readonly dir: string;
  /** Host directories to create before the namespace is set up, one per NODE_STATE_PATHS entry. */
  readonly stateDirs: readonly string[];
  readonly mounts: readonly BindMount[];
  /** Configuration files as the node sees them (their host paths: {@link hostPathOf}). */
  readonly containerdConfig: string;
  readonly kubeletConfig: string;
  readonly kubeconfig: string;
  readonly cniConfig: string;
  readonly kubeProxyConfig: string;
  readonly kubeProxyKubeconfig: string;
  readonly logDir: string;
  /** Where the host's cgroup mounts wait while a fresh sysfs is mounted (node-namespace.ts). */
  readonly cgroupStash: string;
  /** Masked kernel tunables (see kernel-tunables.ts). */
  readonly sysctlDir: string;
}

/** Where a node path lives on the host: `<dir>/root/<path>`. */
export function hostPathOf(dir: string, nodePath: string): string {
  return join(dir, 'root', nodePath);
}

export function nodeLayout(dir: string, cniBinDir: string): NodeLayout {
  return {
    dir,
    stateDirs: NODE_STATE_PATHS.map((p) => hostPathOf(dir, p)),
    mounts: [
      ...NODE_STATE_PATHS.map((p): BindMount => ({ source: hostPathOf(dir, p), target: p })),
      // The plugins of the toolchain cache, where CNI configurations (and Multus, Whereabouts) expect them.
      { source: cniBinDir, target: '/opt/cni/bin', readOnly: true },
    ],
    containerdConfig: '/etc/containerd/config.toml',
    kubeletConfig: '/var/lib/kubelet/config.yaml',
    kubeconfig: '/etc/kubernetes/kubelet.conf',
    cniConfig: '/etc/cni/net.d/10-neonvm.conflist',
    kubeProxyConfig: '/var/lib/kube-proxy/config.yaml',
    kubeProxyKubeconfig: '/var/lib/kube-proxy/kubeconfig',
    logDir: join(dir, 'logs'),
    cgroupStash: join(dir, 'cgroup-stash'),
    sysctlDir: join(dir, 'sysctl'),
  };
}
