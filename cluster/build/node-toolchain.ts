/**
 * The real-node toolchain (scripts/build-node-toolchain.sh): containerd 2.x with its runc shim and ctr,
 * runc, crictl, the CNI plugins, Whereabouts, kube-proxy and the pause binary. The kubelet comes from the
 * Kubernetes build (k8s-binaries.ts); kube-proxy is built from the same k8s.io/kubernetes version here
 * (see the script for why), so node and control plane are the same release.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheRoot, isComplete } from '../../host';
import { buildScriptPath, K8S_VERSION, runCachedBuild } from './k8s-binaries';

export const NODE_TOOLCHAIN_VERSIONS = {
  containerd: 'v2.4.2',
  runc: 'v1.5.3',
  cniPlugins: 'v1.10.0',
  whereabouts: 'v0.9.2',
  criTools: 'v1.37.0',
  /** The tag of k8s.io/kubernetes build/pause this pause binary is compiled from. */
  pause: '3.10.2',
} as const;

/** CNI plugins in `cniBinDir` (containerd's CNI `bin_dirs`). */
export const CNI_PLUGINS = ['bridge', 'host-local', 'loopback', 'portmap', 'tuning', 'whereabouts'] as const;

export interface NodeToolchain {
  readonly binDir: string;
  readonly containerd: string;
  readonly shim: string;
  readonly ctr: string;
  readonly runc: string;
  readonly crictl: string;
  /** kube-proxy of the cluster's Kubernetes version (iptables mode, in the node's network namespace). */
  readonly kubeProxy: string;
  /** Static pause binary: the only file of the sandbox image. */
  readonly pause: string;
  readonly cniBinDir: string;
}

export interface NodeToolchainTiming {
  containerdVersion: string;
  runcVersion: string;
  cniPluginsVersion: string;
  whereaboutsVersion: string;
  criToolsVersion: string;
  goVersion: string;
  totalSeconds: number;
  steps: Record<string, number>;
  builtAt: string;
}

export function nodeToolchainCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const v = NODE_TOOLCHAIN_VERSIONS;
  return join(
    cacheRoot(env),
    `node-containerd-${v.containerd}-runc-${v.runc}-cni-${v.cniPlugins}-whereabouts-${v.whereabouts}-crictl-${v.criTools}-k8s-${K8S_VERSION}`,
  );
}

function toolchainIn(dir: string): NodeToolchain | undefined {
  const binDir = join(dir, 'bin');
  const t: NodeToolchain = {
    binDir,
    containerd: join(binDir, 'containerd'),
    shim: join(binDir, 'containerd-shim-runc-v2'),
    ctr: join(binDir, 'ctr'),
    runc: join(binDir, 'runc'),
    crictl: join(binDir, 'crictl'),
    kubeProxy: join(binDir, 'kube-proxy'),
    pause: join(binDir, 'pause'),
    cniBinDir: join(binDir, 'cni'),
  };
  const files = [
    t.containerd,
    t.shim,
    t.ctr,
    t.runc,
    t.crictl,
    t.kubeProxy,
    t.pause,
    ...CNI_PLUGINS.map((p) => join(t.cniBinDir, p)),
  ];
  return isComplete(dir) && files.every((f) => existsSync(f)) ? t : undefined;
}

/** The toolchain if it is in the cache now (never a half-written one). */
export function findNodeToolchain(env: NodeJS.ProcessEnv = process.env): NodeToolchain | undefined {
  return toolchainIn(nodeToolchainCacheDir(env));
}

/**
 * Whether the toolchain is there (`built`), being built right now by another process (`building`: its
 * build lock is held, e.g. by the background build `npm test` and CI start early; ensureNodeToolchain
 * then waits for it) or neither (`missing`). Synchronous, so test files can decide at load time
 * whether their suite runs.
 */
export function nodeToolchainAvailability(
  env: NodeJS.ProcessEnv = process.env,
): 'built' | 'building' | 'missing' {
  if (findNodeToolchain(env)) return 'built';
  const lock = `${nodeToolchainCacheDir(env)}.lock`;
  if (!existsSync(lock)) return 'missing';
  // flock -n fails (exit 1) while the build script holds the lock.
  return spawnSync('flock', ['-n', lock, 'true']).status === 1 ? 'building' : 'missing';
}

export function readNodeToolchainTiming(
  env: NodeJS.ProcessEnv = process.env,
): NodeToolchainTiming | undefined {
  const file = join(nodeToolchainCacheDir(env), 'build-timing.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as NodeToolchainTiming) : undefined;
}

/**
 * Builds if needed (cold: tens of minutes on 2 shared cores; waits for a build already running, e.g.
 * one started with `--background` by CI) and returns the toolchain.
 */
export async function ensureNodeToolchain(
  options: { env?: NodeJS.ProcessEnv; onProgress?: (line: string) => void } = {},
): Promise<NodeToolchain> {
  const env = options.env ?? process.env;
  const found = findNodeToolchain(env);
  if (found) return found;
  const binDir = await runCachedBuild(buildScriptPath('build-node-toolchain.sh'), env, options.onProgress);
  const built = toolchainIn(join(binDir, '..'));
  if (!built)
    throw new Error(`build-node-toolchain.sh reported ${binDir} but the toolchain is incomplete there`);
  return built;
}
