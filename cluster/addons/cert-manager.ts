/**
 * cert-manager on the local cluster: its CRDs and its controllers (built from its Go module by
 * scripts/build-cert-manager.sh) as a control-plane process, the way a real cluster runs cert-manager
 * before NeonVM is installed. Needed for VM TLS provisioning (spec.tls).
 */
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCertManager, type CertManagerBuild } from '../build';
import { applyCrds, type ControlPlane } from '../control-plane';
import { CertificateAuthority } from '../pki';
import { ManagedProcess, pollUntil } from '../../host';

export interface CertManagerOptions {
  /** Namespace of the Secrets ClusterIssuers refer to (default `cert-manager`, created if missing). */
  clusterResourceNamespace?: string;
  build?: CertManagerBuild;
}

export interface RunningCertManager {
  readonly clusterResourceNamespace: string;
  readonly process: ManagedProcess;
  stop(): Promise<void>;
}

export async function startCertManager(
  cluster: ControlPlane,
  options: CertManagerOptions = {},
): Promise<RunningCertManager> {
  const build = options.build ?? (await ensureCertManager());
  const namespace = options.clusterResourceNamespace ?? 'cert-manager';
  await applyCrds(cluster, build.crdsDir);
  const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: namespace } } }).catch((err: { code?: number }) => {
    if (err.code !== 409) throw err;
  });
  const proc = ManagedProcess.start({
    name: 'cert-manager',
    command: build.controllers,
    args: ['--kubeconfig', cluster.kubeconfigPath, '--cluster-resource-namespace', namespace],
    logFile: join(cluster.dir, 'logs', 'cert-manager.log'),
  });
  try {
    await pollUntil(
      async () => (proc.logTail(200).includes('cert-manager-controllers: running') ? true : undefined),
      {
        timeoutMs: 30_000,
        description: 'cert-manager controllers to start',
        abortIf: () =>
          proc.hasExited ? new Error(`cert-manager exited during startup:\n${proc.logTail()}`) : undefined,
      },
    );
  } catch (err) {
    await proc.stop(1000);
    throw err;
  }
  return {
    clusterResourceNamespace: namespace,
    process: proc,
    stop: async () => void (await proc.stop(5000)),
  };
}

export interface CaClusterIssuer {
  readonly name: string;
  /** The CA certificate (PEM) that signs what the issuer issues. */
  readonly caPem: string;
}

/**
 * A CA ClusterIssuer for local use: a fresh self-signed CA (cluster/pki) stored as the Secret the
 * issuer names, in cert-manager's cluster resource namespace. `waitReady` waits for cert-manager to
 * mark the issuer Ready.
 */
export async function createCaClusterIssuer(
  cluster: ControlPlane,
  certManager: RunningCertManager,
  name: string,
  options: { waitReady?: boolean } = {},
): Promise<CaClusterIssuer> {
  // The same throw-away CA as the cluster's own PKI (ECDSA P-256, openssl), named after the issuer.
  const dir = await mkdtemp(join(tmpdir(), 'neonvm-ca-'));
  let caPem: string;
  let keyPem: string;
  try {
    const ca = await CertificateAuthority.create(dir, name);
    caPem = ca.cert;
    keyPem = await readFile(ca.keyFile, 'utf8');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const namespace = certManager.clusterResourceNamespace;
  await cluster.kubeConfig.makeApiClient(CoreV1Api).createNamespacedSecret({
    namespace,
    body: {
      metadata: { name, namespace },
      type: 'kubernetes.io/tls',
      stringData: { 'tls.crt': caPem, 'tls.key': keyPem },
    },
  });
  const custom = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
  const issuers = { group: 'cert-manager.io', version: 'v1', plural: 'clusterissuers' };
  await custom.createClusterCustomObject({
    ...issuers,
    body: {
      apiVersion: 'cert-manager.io/v1',
      kind: 'ClusterIssuer',
      metadata: { name },
      spec: { ca: { secretName: name } },
    },
  });
  if (options.waitReady ?? true) {
    await pollUntil(
      async () => {
        const issuer = (await custom.getClusterCustomObject({ ...issuers, name })) as {
          status?: { conditions?: Array<{ type: string; status: string }> };
        };
        return issuer.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
          ? true
          : undefined;
      },
      { timeoutMs: 30_000, description: `ClusterIssuer ${name} to be Ready` },
    );
  }
  return { name, caPem };
}
