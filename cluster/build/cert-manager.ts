/**
 * cert-manager's controllers for the local cluster (scripts/build-cert-manager.sh): what VM TLS
 * provisioning (spec.tls) needs -- the CertificateRequest approver, Issuer/ClusterIssuer readiness and
 * the CA and self-signed signers -- plus cert-manager's CRDs from the same module version.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cacheRoot, isComplete } from '../../host';
import { buildScriptPath, runCachedBuild } from './k8s-binaries';

export const CERT_MANAGER_VERSION = 'v1.21.2';

export interface CertManagerBuild {
  /** The controllers binary (flags: --kubeconfig, --cluster-resource-namespace). */
  readonly controllers: string;
  /** cert-manager.io CRD manifests. */
  readonly crdsDir: string;
}

function buildIn(dir: string): CertManagerBuild | undefined {
  const build = {
    controllers: join(dir, 'bin', 'cert-manager-controllers'),
    crdsDir: join(dir, 'share', 'crds'),
  };
  const complete =
    isComplete(dir) &&
    existsSync(build.controllers) &&
    existsSync(join(build.crdsDir, 'cert-manager.io_certificaterequests.yaml'));
  return complete ? build : undefined;
}

export function certManagerCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheRoot(env), `cert-manager-${CERT_MANAGER_VERSION}`);
}

/** The build if it is in the cache now (never a half-written one). */
export function findCertManager(env: NodeJS.ProcessEnv = process.env): CertManagerBuild | undefined {
  return buildIn(certManagerCacheDir(env));
}

/** Builds if needed (a few minutes cold; waits for a build already running) and returns the build. */
export async function ensureCertManager(
  options: { env?: NodeJS.ProcessEnv; onProgress?: (line: string) => void } = {},
): Promise<CertManagerBuild> {
  const env = options.env ?? process.env;
  const found = findCertManager(env);
  if (found) return found;
  const binDir = await runCachedBuild(buildScriptPath('build-cert-manager.sh'), env, options.onProgress);
  const built = buildIn(join(binDir, '..'));
  if (!built) throw new Error(`build-cert-manager.sh reported ${binDir} but the build is incomplete there`);
  return built;
}
