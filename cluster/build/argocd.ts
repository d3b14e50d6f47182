/**
 * Argo CD for the local cluster (scripts/build-argocd.sh): one multi-call binary with the application
 * controller and the repo server, `argocd-health` (Argo CD's health code as a program, for tests of our
 * Lua checks), and Argo CD's CRDs from the same module version.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheRoot, findUpwards, isComplete } from '../../host';
import { buildScriptPath, runCachedBuild } from './k8s-binaries';

export const ARGOCD_VERSION = 'v3.6.2';

export interface ArgoCdBuild {
  /** Holds git-verify-wrapper.sh and gpg-wrapper.sh too: put it on the repo server's PATH. */
  readonly binDir: string;
  /** `argocd-application-controller` (a link to the multi-call binary). */
  readonly applicationController: string;
  /** `argocd-repo-server` (a link to the multi-call binary). */
  readonly repoServer: string;
  /** Reads `{configMapData, objects}` JSON on stdin, prints one `{status, message, error}` per object. */
  readonly health: string;
  /** application-crd.yaml and appproject-crd.yaml. */
  readonly crdsDir: string;
  /** build-timing.json written by the build. */
  readonly timingFile: string;
}

function buildIn(dir: string): ArgoCdBuild | undefined {
  const binDir = join(dir, 'bin');
  const build: ArgoCdBuild = {
    binDir,
    applicationController: join(binDir, 'argocd-application-controller'),
    repoServer: join(binDir, 'argocd-repo-server'),
    health: join(binDir, 'argocd-health'),
    crdsDir: join(dir, 'share', 'crds'),
    timingFile: join(dir, 'build-timing.json'),
  };
  const complete =
    isComplete(dir) &&
    [
      build.applicationController,
      build.repoServer,
      build.health,
      join(binDir, 'git-verify-wrapper.sh'),
    ].every((f) => existsSync(f)) &&
    existsSync(join(build.crdsDir, 'application-crd.yaml'));
  return complete ? build : undefined;
}

/** Sources of our wrapper module, in the order scripts/build-argocd.sh hashes them into the cache key. */
const WRAPPER_SOURCES = [
  'cluster/build/argocd/main.go',
  'cluster/build/argocd/health/main.go',
  'cluster/build/gen-argocd-module.sh',
];

/** First 12 hex digits of sha256 over the wrapper sources (`cat ... | sha256sum` in the script). */
export function argoCdWrapperHash(): string | undefined {
  const files = WRAPPER_SOURCES.map((f) => findUpwards(__dirname, f));
  if (files.some((f) => f === undefined)) return undefined; // an installed package ships no build sources
  const hash = createHash('sha256');
  for (const f of files) hash.update(readFileSync(f!));
  return hash.digest('hex').slice(0, 12);
}

export function argoCdCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const wrapper = argoCdWrapperHash();
  return wrapper ? join(cacheRoot(env), `argocd-${ARGOCD_VERSION}-${wrapper}`) : undefined;
}

/** The build if it is in the cache now (never a half-written one). */
export function findArgoCd(env: NodeJS.ProcessEnv = process.env): ArgoCdBuild | undefined {
  const dir = argoCdCacheDir(env);
  return dir ? buildIn(dir) : undefined;
}

/** Builds if needed (tens of minutes cold; waits for a build already running) and returns the build. */
export async function ensureArgoCd(
  options: { env?: NodeJS.ProcessEnv; onProgress?: (line: string) => void } = {},
): Promise<ArgoCdBuild> {
  const env = options.env ?? process.env;
  const found = findArgoCd(env);
  if (found) return found;
  const binDir = await runCachedBuild(buildScriptPath('build-argocd.sh'), env, options.onProgress);
  const built = buildIn(join(binDir, '..'));
  if (!built) throw new Error(`build-argocd.sh reported ${binDir} but the build is incomplete there`);
  return built;
}
