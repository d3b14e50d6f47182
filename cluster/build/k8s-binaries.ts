import { cacheRoot, findUpwards, isComplete } from '../../host';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Versions of the control plane this project is tested against (see docs and scripts/build-k8s.sh). */
export const K8S_VERSION = 'v1.37.2';
export const ETCD_VERSION = 'v3.7.3';

export const CONTROL_PLANE_BINARIES = [
  'etcd',
  'kube-apiserver',
  'kube-scheduler',
  'kube-controller-manager',
  'kubectl',
] as const;
export type ControlPlaneBinary = (typeof CONTROL_PLANE_BINARIES)[number];

/** Everything build-k8s.sh builds: the control plane plus the kubelet the real nodes run. */
export const K8S_BINARIES = [...CONTROL_PLANE_BINARIES, 'kubelet'] as const;
export type K8sBinary = (typeof K8S_BINARIES)[number];

/** Absolute path of each binary of the Kubernetes build. */
export type K8sBinaries = Record<K8sBinary, string>;

/** What build-k8s.sh records next to the binaries, read by the benchmark. */
export interface BuildTiming {
  k8sVersion: string;
  etcdVersion: string;
  goVersion: string;
  totalSeconds: number;
  steps: Record<string, number>;
  builtAt: string;
}

export function k8sCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheRoot(env), `k8s-${K8S_VERSION}-etcd-${ETCD_VERSION}`);
}

function binariesIn(dir: string): K8sBinaries {
  return Object.fromEntries(K8S_BINARIES.map((b) => [b, join(dir, b)])) as K8sBinaries;
}

function hasAll(dir: string): boolean {
  // A cache or KUBEBUILDER_ASSETS without the kubelet counts as missing: build-k8s.sh rebuilds it.
  return K8S_BINARIES.every((b) => existsSync(join(dir, b)));
}

/**
 * The binaries if they are usable right now without building: `KUBEBUILDER_ASSETS` (envtest convention)
 * first, then a completed cache entry. Never returns a half-written cache (no `.complete` marker).
 */
export function findK8sBinaries(env: NodeJS.ProcessEnv = process.env): K8sBinaries | undefined {
  const assets = env.KUBEBUILDER_ASSETS;
  if (assets && hasAll(assets)) return binariesIn(assets);
  const dir = k8sCacheDir(env);
  if (isComplete(dir) && hasAll(join(dir, 'bin'))) return binariesIn(join(dir, 'bin'));
  return undefined;
}

export function readBuildTiming(env: NodeJS.ProcessEnv = process.env): BuildTiming | undefined {
  const file = join(k8sCacheDir(env), 'build-timing.json');
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as BuildTiming;
}

const BUILD_SCRIPT = buildScriptPath('build-k8s.sh');

/**
 * Returns the binaries, building them first if needed. If a build is already running (e.g. started in
 * the background by CI) this waits for it through the script's lock instead of starting a second one.
 * A cold build takes 15-25 minutes on 2 cores; progress lines go to `onProgress` (default: stderr).
 */
export async function ensureK8sBinaries(
  options: { env?: NodeJS.ProcessEnv; onProgress?: (line: string) => void } = {},
): Promise<K8sBinaries> {
  const env = options.env ?? process.env;
  const found = findK8sBinaries(env);
  if (found) return found;
  const binDir = await runCachedBuild(BUILD_SCRIPT, env, options.onProgress);
  if (!hasAll(binDir)) throw new Error(`build-k8s.sh reported ${binDir} but binaries are missing there`);
  return binariesIn(binDir);
}

/** A script in scripts/, found from the source tree or the compiled lib/ tree. */
export function buildScriptPath(name: string): string {
  return findUpwards(__dirname, `scripts/${name}`) ?? resolve(__dirname, '..', '..', 'scripts', name);
}

/**
 * Runs one of the cached toolchain build scripts (scripts/lib/cached-build.sh) and returns the bin
 * directory it prints last. Its `[build-...]` progress lines go to `onProgress` (default: stderr).
 */
export function runCachedBuild(
  script: string,
  env: NodeJS.ProcessEnv,
  onProgress: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<string> {
  return new Promise<string>((resolvePromise, reject) => {
    const child = execFile('bash', [script], { env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout) => {
      if (err) reject(new Error(`${script} failed: ${err.message}`));
      else resolvePromise(stdout.trim().split('\n').pop() ?? '');
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) if (line.startsWith('[build-')) onProgress(line);
    });
  });
}
