/**
 * cert-manager on the local cluster: its CRDs and its controllers (built from its Go module by
 * scripts/build-cert-manager.sh) as a control-plane process, the way a real cluster runs cert-manager
 * before NeonVM is installed. Needed for VM TLS provisioning (spec.tls).
 */
import { CoreV1Api } from '@kubernetes/client-node';
import { join } from 'node:path';
import { ensureCertManager, type CertManagerBuild } from '../build';
import { applyCrds, type ControlPlane } from '../control-plane';
import { ManagedProcess } from '../process';
import { pollUntil } from '../util';

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
