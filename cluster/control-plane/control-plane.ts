import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureK8sBinaries, K8sBinaries } from '../build';
import { CertificateAuthority, createServiceAccountKeys, IssuedCert } from '../pki';
import { freePort, killGroup, ManagedProcess, registerEmergencyCleanup, pollUntil } from '../../host';
import { apiServerArgs, controllerManagerArgs, etcdArgs, schedulerArgs } from './flags';
import { renderKubeconfig } from './kubeconfig';

export const SERVICE_CLUSTER_IP_RANGE = '10.0.0.0/24';

export interface ControlPlaneOptions {
  /** Default: built or taken from the cache / KUBEBUILDER_ASSETS by {@link ensureK8sBinaries}. */
  binaries?: K8sBinaries;
  /** Parent of the per-cluster temp directory (default: the OS temp dir). */
  parentDir?: string;
  /**
   * Address the API server binds and advertises (default 127.0.0.1; startLocalCluster passes the cluster
   * bridge's address, which pods can route to). Always in its serving cert, with 127.0.0.1.
   */
  bindAddress?: string;
  /** Keep the temp directory (logs, etcd data) after stop(); also enabled by NEONVM_KEEP_CLUSTER_DIR=1. */
  keepDir?: boolean;
  /** Overall start timeout (default 90 s: 2 busy cores can make the API server slow to become ready). */
  timeoutMs?: number;
  log?: (line: string) => void;
  /**
   * Additional flags per component, appended after ours, e.g.
   * `{ 'kube-controller-manager': ['--node-monitor-grace-period=10s'] }` to notice a stopped node quickly.
   */
  extraArgs?: Partial<Record<ControlPlaneComponent, readonly string[]>>;
}

export type ControlPlaneComponent = 'etcd' | 'kube-apiserver' | 'kube-scheduler' | 'kube-controller-manager';

export interface ControlPlaneProcesses {
  etcd: ManagedProcess;
  apiServer: ManagedProcess;
  scheduler: ManagedProcess;
  controllerManager: ManagedProcess;
}

export interface ControlPlane {
  /** Per-cluster temp directory: pki/, etcd/, logs/, admin.kubeconfig. */
  dir: string;
  server: string;
  kubeconfigPath: string;
  kubeConfig: KubeConfig;
  ca: CertificateAuthority;
  /** O=system:masters client certificate, also used by node agents. */
  adminCert: IssuedCert;
  binaries: K8sBinaries;
  processes: ControlPlaneProcesses;
  /** Milliseconds from the call to a ready API server with the default ServiceAccount present. */
  startupMs: number;
  /** Stops every process (scheduler and controllers first, etcd last) and removes the temp directory. */
  stop(): Promise<void>;
  /**
   * Stops one component with `signal` (default SIGKILL: a crash) and starts it again with the same
   * flags, ports and data; resolves once the API server is ready again. `processes` then holds the new
   * process. For fault-injection tests.
   */
  restart(component: ControlPlaneComponent, signal?: NodeJS.Signals): Promise<void>;
}

const PROCESS_KEY: Record<ControlPlaneComponent, keyof ControlPlaneProcesses> = {
  etcd: 'etcd',
  'kube-apiserver': 'apiServer',
  'kube-scheduler': 'scheduler',
  'kube-controller-manager': 'controllerManager',
};

/**
 * Starts etcd, kube-apiserver, kube-scheduler and kube-controller-manager as local processes on free
 * loopback ports, with a fresh CA, and returns once the API server is ready and the controller manager
 * has created the `default` ServiceAccount (before that, every pod creation is rejected).
 */
export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const t0 = Date.now();
  const log = options.log ?? (() => undefined);
  const binaries = options.binaries ?? (await ensureK8sBinaries());
  const bindAddress = options.bindAddress ?? '127.0.0.1';
  const keepDir = options.keepDir ?? process.env.NEONVM_KEEP_CLUSTER_DIR === '1';
  const timeoutMs = options.timeoutMs ?? 90_000;

  const dir = mkdtempSync(join(options.parentDir ?? tmpdir(), 'neonvm-cluster-'));
  const unregisterDir = registerEmergencyCleanup(`remove ${dir}`, () => {
    if (!keepDir) rmSync(dir, { recursive: true, force: true });
  });
  const started: ManagedProcess[] = [];
  const stopAll = async (): Promise<void> => {
    // Reverse start order: clients of the API server first, etcd last.
    for (const p of [...started].reverse()) await p.stop(5000);
  };

  try {
    const pkiDir = join(dir, 'pki');
    const logDir = join(dir, 'logs');
    await mkdir(logDir, { recursive: true });
    const ca = await CertificateAuthority.create(pkiDir);
    const sans = new Set(['127.0.0.1', bindAddress]);
    const [serving, admin, scheduler, controllerManager, kubeletClient, saKeys] = await Promise.all([
      ca.issue('apiserver', {
        commonName: 'kube-apiserver',
        ips: [...sans, '10.0.0.1'],
        dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc'],
        usage: 'server',
      }),
      ca.issue('admin', { commonName: 'neonvm-admin', organizations: ['system:masters'], usage: 'client' }),
      ca.issue('scheduler', { commonName: 'system:kube-scheduler', usage: 'client' }),
      ca.issue('controller-manager', { commonName: 'system:kube-controller-manager', usage: 'client' }),
      ca.issue('apiserver-kubelet-client', {
        commonName: 'kube-apiserver-kubelet-client',
        organizations: ['system:masters'],
        usage: 'client',
      }),
      createServiceAccountKeys(pkiDir),
    ]);

    const [etcdClientPort, etcdPeerPort, securePort] = await Promise.all([
      freePort(),
      freePort(),
      freePort(bindAddress),
    ]);
    const server = `https://${bindAddress}:${securePort}`;
    const kubeconfigFor = async (name: string, cert: IssuedCert): Promise<string> => {
      const file = join(dir, `${name}.kubeconfig`);
      await writeFile(
        file,
        renderKubeconfig({ server, caCert: ca.cert, clientCert: cert.cert, clientKey: cert.key }),
      );
      return file;
    };
    const [kubeconfigPath, schedulerKubeconfig, controllerManagerKubeconfig] = await Promise.all([
      kubeconfigFor('admin', admin),
      kubeconfigFor('scheduler', scheduler),
      kubeconfigFor('controller-manager', controllerManager),
    ]);

    const invocations = new Map<ControlPlaneComponent, { command: string; args: string[] }>();
    const start = (name: ControlPlaneComponent, command: string, args: string[]): ManagedProcess => {
      // Later flags win in these binaries' flag parsing, so extra arguments can override ours.
      const allArgs = [...args, ...(options.extraArgs?.[name] ?? [])];
      invocations.set(name, { command, args });
      const p = ManagedProcess.start({ name, command, args: allArgs, logFile: join(logDir, `${name}.log`) });
      started.push(p);
      return p;
    };
    const abortIfExited = (): Error | undefined => {
      const dead = started.find((p) => p.hasExited);
      if (!dead) return undefined;
      return new Error(
        `${dead.name} exited (${JSON.stringify(dead.exitStatus)}) during startup:\n${dead.logTail()}`,
      );
    };

    // etcd and the API server start together: the API server retries etcd until it answers.
    const etcd = start(
      'etcd',
      binaries.etcd,
      etcdArgs({ dataDir: join(dir, 'etcd'), clientPort: etcdClientPort, peerPort: etcdPeerPort }),
    );
    const apiServer = start(
      'kube-apiserver',
      binaries['kube-apiserver'],
      apiServerArgs({
        etcdUrl: `http://127.0.0.1:${etcdClientPort}`,
        bindAddress,
        securePort,
        servingCertFile: serving.certFile,
        servingKeyFile: serving.keyFile,
        caCertFile: ca.certFile,
        serviceAccountPublicKeyFile: saKeys.publicKeyFile,
        serviceAccountPrivateKeyFile: saKeys.privateKeyFile,
        kubeletClientCertFile: kubeletClient.certFile,
        kubeletClientKeyFile: kubeletClient.keyFile,
        serviceClusterIpRange: SERVICE_CLUSTER_IP_RANGE,
      }),
    );
    log(
      `etcd (pid ${etcd.pid}) and kube-apiserver (pid ${apiServer.pid}) started; waiting for ${server}/readyz`,
    );
    await pollUntil(() => readyz(server, ca.cert, admin), {
      timeoutMs,
      description: 'kube-apiserver /readyz',
      abortIf: abortIfExited,
    });
    log(`kube-apiserver ready after ${Date.now() - t0} ms`);

    const schedulerProcess = start(
      'kube-scheduler',
      binaries['kube-scheduler'],
      schedulerArgs({ kubeconfigFile: schedulerKubeconfig }),
    );
    const controllerManagerProcess = start(
      'kube-controller-manager',
      binaries['kube-controller-manager'],
      controllerManagerArgs({
        kubeconfigFile: controllerManagerKubeconfig,
        serviceAccountPrivateKeyFile: saKeys.privateKeyFile,
        caCertFile: ca.certFile,
        caKeyFile: ca.keyFile,
        serviceClusterIpRange: SERVICE_CLUSTER_IP_RANGE,
      }),
    );

    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kubeconfigPath);
    const core = kubeConfig.makeApiClient(CoreV1Api);
    await pollUntil(
      async () =>
        (await core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' }))
          ? true
          : undefined,
      {
        timeoutMs,
        description: 'the default ServiceAccount (kube-controller-manager)',
        abortIf: abortIfExited,
      },
    );
    const startupMs = Date.now() - t0;
    log(`control plane ready in ${startupMs} ms (${dir})`);

    let stopped: Promise<void> | undefined;
    const processes: ControlPlaneProcesses = {
      etcd,
      apiServer,
      scheduler: schedulerProcess,
      controllerManager: controllerManagerProcess,
    };
    const restart = async (component: ControlPlaneComponent, signal: NodeJS.Signals = 'SIGKILL') => {
      const key = PROCESS_KEY[component];
      const old = processes[key];
      const invocation = invocations.get(component);
      if (!invocation) throw new Error(`${component} was never started`);
      killGroup(old.pid, signal);
      await old.exited;
      started.splice(started.indexOf(old), 1);
      processes[key] = start(component, invocation.command, invocation.args);
      log(`${component} restarted (pid ${processes[key].pid})`);
      await pollUntil(() => readyz(server, ca.cert, admin).catch(() => undefined), {
        timeoutMs,
        intervalMs: 200,
        description: `kube-apiserver /readyz after restarting ${component}`,
      });
    };
    return {
      dir,
      server,
      kubeconfigPath,
      kubeConfig,
      ca,
      adminCert: admin,
      binaries,
      processes,
      restart,
      startupMs,
      stop: () =>
        (stopped ??= (async () => {
          await stopAll();
          if (!keepDir) rmSync(dir, { recursive: true, force: true });
          unregisterDir();
        })()),
    };
  } catch (err) {
    await stopAll();
    if (!keepDir) rmSync(dir, { recursive: true, force: true });
    unregisterDir();
    throw err;
  }
}

/** GET /readyz with the admin certificate; resolves true when it answers 200. */
function readyz(server: string, ca: string, cert: IssuedCert): Promise<true | undefined> {
  return new Promise((resolve, reject) => {
    const req = request(`${server}/readyz`, { ca, cert: cert.cert, key: cert.key, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? true : undefined);
    });
    req.on('timeout', () => req.destroy(new Error('readyz request timed out')));
    req.on('error', reject);
    req.end();
  });
}
