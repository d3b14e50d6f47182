/**
 * The whole of NeonVM on one machine: the local cluster (real control plane + node agent), our CRDs,
 * the operator with its HTTPS admission webhooks, the runner as the runner image and the Debian guest
 * image in the image store. Used by `npm start` and by the end-to-end tests.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { packagePath } from '../host';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import {
  createCaClusterIssuer,
  ensureCertManager,
  findCertManager,
  startCertManager,
  startLocalCluster,
  type LocalCluster,
  type RealNode,
  type RunningCertManager,
} from '../cluster';
import { Operator, type OperatorOptions } from '../operator/operator';
import { DEFAULT_RUNNER_POD_CONFIG } from '../operator/pod';
import { createLogger, silentLogger, type Logger } from '../operator/controller-kit';
import { ensureDebianImage } from '../image/debian';
import { installRunnerCommand, type RunnerCommand } from './runner-command';

const run = promisify(execFile);
export const RUNNER_IMAGE = 'neonvm/runner:local';
export const OPERATOR_NAMESPACE = 'neonvm-system';
const CRD_DIR = packagePath(__dirname, 'crds/generated');

/** What the stack needs of a running operator. */
export interface OperatorHandle {
  stop(): Promise<void>;
}

/** The settings an operator must run with on the local stack (in-process or as its own process). */
export interface LocalOperatorSettings {
  readonly namespace: string;
  readonly runnerImage: string;
  /** Runner pods on the local cluster: no device plugin, no cgroup management. */
  readonly devicePluginResources: false;
  readonly disableRunnerCgroup: true;
  /** The apiserver calls the webhooks at https://127.0.0.1:<port> (no Service on the local cluster). */
  readonly webhookUrlHost: '127.0.0.1';
}

/** The CA ClusterIssuer the local stack creates when it runs cert-manager. */
export const LOCAL_CLUSTER_ISSUER = 'neonvm-local-ca';

export interface NeonVmStackOptions {
  readonly nodes?: number;
  /**
   * Starts the operator; default: in this process. The release tests pass one that runs the
   * operator image's rootfs instead.
   */
  readonly startOperator?: (
    cluster: LocalCluster,
    settings: LocalOperatorSettings,
  ) => Promise<OperatorHandle>;
  readonly progress?: (line: string) => void;
  /** Operator log level (pino); silent by default so progress lines stay readable. */
  readonly operatorLogLevel?: string;
  /**
   * cert-manager for VMs with spec.tls: `start` builds it if needed (a few minutes cold) and runs it,
   * `if-built` runs it only when scripts/build-cert-manager.sh has already built it. Default: none.
   */
  readonly certManager?: 'start' | 'if-built';
}

export interface NeonVmStack {
  readonly cluster: LocalCluster;
  /** Real nodes (kubelet + containerd) of the cluster, when the stack runs on them (release-stack.ts). */
  readonly realNodes?: readonly RealNode[];
  readonly operator: OperatorHandle;
  /** Running when requested through `certManager` (and, for `if-built`, built). */
  readonly certManager?: RunningCertManager;
  kubectl(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

export async function startNeonVmStack(opts: NeonVmStackOptions = {}): Promise<NeonVmStack> {
  const progress = opts.progress ?? ((line: string) => console.log(line));
  let runnerCommand: RunnerCommand | undefined;
  let cluster: LocalCluster | undefined;
  let operator: OperatorHandle | undefined;
  let certManager: RunningCertManager | undefined;
  const stop = async () => {
    await operator?.stop();
    await certManager?.stop();
    await cluster?.stop();
    runnerCommand?.remove();
  };
  try {
    progress('guest image: building or reusing neondatabase/vm-debian:11 (Debian 12, cached)');
    await ensureDebianImage({ progress: (l) => progress(`  ${l}`) });
    runnerCommand = installRunnerCommand();
    progress(
      `cluster: starting ${opts.nodes ?? 3} nodes (real kube-apiserver, etcd, scheduler, controller-manager)`,
    );
    cluster = await startLocalCluster({ nodes: opts.nodes ?? 3, log: (l) => progress(`  ${l}`) });
    const c = cluster;
    const kubectl = async (...args: string[]) =>
      (await run(c.binaries.kubectl, ['--kubeconfig', c.kubeconfigPath, ...args], { maxBuffer: 16 << 20 }))
        .stdout;
    progress('crds: applying (server-side) and waiting for Established');
    await kubectl('apply', '--server-side', '-f', CRD_DIR);
    await kubectl('wait', '--for=condition=Established', '--timeout=60s', '-f', CRD_DIR);
    c.images.register(RUNNER_IMAGE, { entrypoint: ['runner'] });
    await c.kubeConfig
      .makeApiClient(CoreV1Api)
      .createNamespace({ body: { metadata: { name: OPERATOR_NAMESPACE } } });
    const certManagerBuild =
      opts.certManager === 'start' ? await ensureCertManager({ onProgress: (l) => progress(`  ${l}`) })
      : opts.certManager === 'if-built' ? findCertManager() : undefined; // prettier-ignore
    if (certManagerBuild) {
      progress('cert-manager: starting its controllers (approver, CA and self-signed issuers) for spec.tls');
      certManager = await startCertManager(c, { build: certManagerBuild });
      await createCaClusterIssuer(c, certManager, LOCAL_CLUSTER_ISSUER);
      progress(`cert-manager: ClusterIssuer ${LOCAL_CLUSTER_ISSUER} ready (spec.tls.certificateIssuer)`);
    } else if (opts.certManager === 'if-built') {
      progress('cert-manager: not built, so VMs with spec.tls wait (run scripts/build-cert-manager.sh)');
    }
    progress('operator: starting (leader election, controllers, HTTPS webhooks with a self-managed CA)');
    const settings = localOperatorSettings(RUNNER_IMAGE);
    operator = await (opts.startOperator ?? startInProcessOperator(opts.operatorLogLevel))(c, settings);
    return { cluster: c, operator, ...(certManager ? { certManager } : {}), kubectl, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

export function localOperatorSettings(
  runnerImage: string,
  namespace = OPERATOR_NAMESPACE,
): LocalOperatorSettings {
  return {
    namespace,
    runnerImage,
    devicePluginResources: false,
    disableRunnerCgroup: true,
    webhookUrlHost: '127.0.0.1',
  };
}

/** In-process Operator options for the local cluster (npm start and the operator integration tests). */
export function localOperatorOptions(
  kubeConfig: KubeConfig,
  settings: LocalOperatorSettings,
  o: { identity: string; concurrency: number; log: Logger },
): OperatorOptions {
  return {
    kubeConfig,
    namespace: settings.namespace,
    identity: o.identity,
    runnerPod: {
      ...DEFAULT_RUNNER_POD_CONFIG,
      runnerImage: settings.runnerImage,
      devicePluginResources: settings.devicePluginResources,
      disableRunnerCgroup: settings.disableRunnerCgroup,
    },
    concurrency: o.concurrency,
    webhook: {
      port: 0,
      host: settings.webhookUrlHost,
      urlHost: settings.webhookUrlHost,
      secretName: 'neonvm-webhook-server-cert',
      dnsNames: ['localhost'],
      ips: [settings.webhookUrlHost],
      // The default admission policy (privileged VM fields refused), as an install without options.
      policy: { policy: {}, runnerImage: settings.runnerImage, operatorNamespace: settings.namespace },
    },
    log: o.log,
  };
}

function startInProcessOperator(
  logLevel: string | undefined,
): (cluster: LocalCluster, settings: LocalOperatorSettings) => Promise<OperatorHandle> {
  return async (cluster, settings) => {
    const operator = new Operator(
      localOperatorOptions(cluster.kubeConfig, settings, {
        identity: 'neonvm-operator-local',
        concurrency: 8,
        log: logLevel ? createLogger({ level: logLevel }) : silentLogger(),
      }),
    );
    try {
      await operator.start();
    } catch (err) {
      await operator.stop().catch(() => undefined);
      throw err;
    }
    return operator;
  };
}
