/**
 * The stack the fault scenarios run on: `npm start`'s NeonVM stack (real control plane, node agents,
 * real runners and QEMU, the Debian guest image) with three changes that let faults be injected from
 * outside, on real processes:
 * - the operator runs as its own process (`operator/main`, leader election on), restarted when it exits
 *   as a Deployment would, talking to the API server through a TCP proxy the tests can freeze;
 * - node 3's agent talks to the API server through another such proxy (a node cut off from the control
 *   plane while its pods keep running);
 * - an admission webhook of the test process can refuse chosen status writes (lost writes).
 * Short lease timings keep failovers within seconds.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import {
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Pod,
} from '@kubernetes/client-node';
import { ConfigCache, NodeAgent, nodeName, renderKubeconfig, type LocalCluster } from '../../cluster';
import {
  GROUP,
  RUNNER_CONTAINER_NAME,
  VERSION,
  type VirtualMachine,
  type VirtualMachineMigration,
} from '../../crds';
import { freePort, pollUntil } from '../../host';
import { Informer } from '../../kube';
import { keepAliveClients } from '../../kube/client-node';
import { OPERATOR_NAMESPACE, RUNNER_IMAGE, startNeonVmStack, type NeonVmStack } from '../../local-stack';
import { RunnerClient, type QemuState } from '../../runner/api';
import { OperatorProcess } from './operator-process';
import { TcpProxy } from './tcp-proxy';
import { WriteDropper } from './write-dropper';

/** Lease timings of the fault stack's operators (the shipped defaults are 15 s / 10 s / 2 s). */
export const LEASE = { durationMs: 8_000, renewDeadlineMs: 5_000, retryMs: 1_000 };
export const LEASE_NAME = 'a3b22509.neon.tech';
export const PRIMARY = 'operator-primary';
export const STANDBY = 'operator-standby';
/** The node whose agent reaches the API server through a proxy the tests can freeze. */
export const CUT_NODE = nodeName(3);

export interface FaultStack {
  readonly stack: NeonVmStack;
  readonly cluster: LocalCluster;
  readonly operator: OperatorProcess;
  /** Between the primary operator and the API server. */
  readonly operatorLink: TcpProxy;
  /** Between node 3's agent and the API server. */
  readonly nodeLink: TcpProxy;
  readonly dropper: WriteDropper;
  readonly watcher: RunnerPodWatcher;
  readonly dir: string;
  /** VMs, migrations, runner pods and the operator's recent warnings, as text (for a failed scenario). */
  diagnose(): Promise<string>;
  startStandby(probePort: number): OperatorProcess;
  stop(): Promise<void>;
}

/** Writes a kubeconfig for the admin user that reaches the API server at `server`. */
function kubeconfigFile(cluster: LocalCluster, server: string, file: string): KubeConfig {
  writeFileSync(
    file,
    renderKubeconfig({
      server,
      caCert: cluster.ca.cert,
      clientCert: cluster.adminCert.cert,
      clientKey: cluster.adminCert.key,
    }),
  );
  const kc = new KubeConfig();
  kc.loadFromFile(file);
  return kc;
}

export async function startFaultStack(progress: (line: string) => void): Promise<FaultStack> {
  let operator: OperatorProcess | undefined;
  let operatorLink: TcpProxy | undefined;
  let dir = '';
  const webhookPort = await freePort();
  const stack = await startNeonVmStack({
    nodes: 2,
    progress,
    startOperator: async (cluster, settings) => {
      dir = join(cluster.dir, 'faults');
      mkdirSync(dir, { recursive: true });
      const api = new URL(cluster.server);
      operatorLink = new TcpProxy({ host: api.hostname, port: Number(api.port) });
      const port = await operatorLink.start();
      kubeconfigFile(cluster, `https://127.0.0.1:${port}`, join(dir, 'operator.kubeconfig'));
      operator = new OperatorProcess({
        identity: PRIMARY,
        kubeconfig: join(dir, 'operator.kubeconfig'),
        runnerImage: settings.runnerImage,
        namespace: settings.namespace,
        webhookPort,
        lease: LEASE,
        logFile: join(dir, 'operator-primary.log'),
        restartAfterMs: 500,
      });
      operator.start();
      const op = operator;
      await waitForLog(op, /"msg":"admission webhooks serving"/, 300_000);
      return { stop: () => op.stop() };
    },
  });
  const cluster = stack.cluster;
  if (!operator || !operatorLink) throw new Error('the operator did not start');

  // Node 3: a node agent like the cluster's own, but reaching the API server through a proxy.
  const api = new URL(cluster.server);
  const nodeLink = new TcpProxy({ host: api.hostname, port: Number(api.port) });
  const nodePort = await nodeLink.start();
  const nodeKube = kubeconfigFile(cluster, `https://127.0.0.1:${nodePort}`, join(dir, 'node-3.kubeconfig'));
  const clients = await keepAliveClients(nodeKube);
  const config = new ConfigCache(nodeKube, clients);
  await config.start();
  const agent = new NodeAgent({
    name: CUT_NODE,
    index: 3,
    kubeConfig: nodeKube,
    clients,
    network: cluster.network,
    images: cluster.images,
    config,
    ca: cluster.ca,
    dir: join(cluster.dir, 'nodes', CUT_NODE),
    log: pino(
      { level: 'info', base: undefined },
      pino.destination({ dest: join(dir, 'node-3.log'), sync: true }),
    ),
  });
  await agent.start();
  const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
  await pollUntil(
    async () => {
      const node = await core.readNode({ name: CUT_NODE });
      return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
        ? true
        : undefined;
    },
    { timeoutMs: 60_000, description: `${CUT_NODE} Ready` },
  );

  const dropper = new WriteDropper(cluster.kubeConfig);
  await dropper.start();
  const watcher = new RunnerPodWatcher(cluster.kubeConfig, core);
  await watcher.start();
  const standbys: OperatorProcess[] = [];
  const op = operator;
  const link = operatorLink;
  return {
    stack,
    cluster,
    operator: op,
    operatorLink: link,
    nodeLink,
    dropper,
    watcher,
    dir,
    diagnose: () => diagnose(cluster, op),
    startStandby: (probePort: number) => {
      const standby = new OperatorProcess({
        // A standby serves nothing else: without its probe server nothing would keep the process alive.
        probeBind: `127.0.0.1:${probePort}`,
        identity: STANDBY,
        kubeconfig: cluster.kubeconfigPath,
        runnerImage: RUNNER_IMAGE,
        namespace: OPERATOR_NAMESPACE,
        webhookPort: -1,
        lease: LEASE,
        logFile: join(dir, 'operator-standby.log'),
        logLevel: 'debug',
      });
      standbys.push(standby);
      standby.start();
      return standby;
    },
    stop: async () => {
      await watcher.stop();
      await Promise.all(standbys.map((s) => s.stop()));
      link.thaw();
      nodeLink.thaw();
      await dropper.stop();
      await agent.stop();
      await config.stop();
      await stack.stop();
      await Promise.all([link.stop(), nodeLink.stop()]);
    },
  };
}

/** What a failed scenario leaves behind: objects' status and the operator's last warnings and errors. */
async function diagnose(cluster: LocalCluster, op: OperatorProcess): Promise<string> {
  const custom = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
  const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
  const list = async (plural: string): Promise<unknown[]> =>
    (
      (await custom
        .listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: 'default', plural })
        .catch((err: unknown) => ({ items: [`list failed: ${String(err)}`] }))) as { items: unknown[] }
    ).items;
  const conditions = (c: { type?: string; status?: string; reason?: string; message?: string }[] = []) =>
    c.map((x) => `${x.type}=${x.status}(${x.reason}: ${(x.message ?? '').slice(0, 160)})`).join('; ');
  const lines: string[] = [];
  for (const v of (await list('virtualmachines')) as VirtualMachine[])
    lines.push(
      `VM ${v.metadata?.name}: phase=${v.status?.phase} pod=${v.status?.podName} restarts=${v.status?.restartCount} ${conditions(v.status?.conditions)}`,
    );
  for (const m of (await list('virtualmachinemigrations')) as VirtualMachineMigration[])
    lines.push(
      `migration ${m.metadata?.name}: phase=${m.status?.phase} ${m.status?.sourcePodName} → ${m.status?.targetPodName} ${conditions(m.status?.conditions)}`,
    );
  const pods = await core.listNamespacedPod({ namespace: 'default' }).catch(() => ({ items: [] as V1Pod[] }));
  for (const p of pods.items) {
    const state = p.status?.containerStatuses?.map((c) => JSON.stringify(c.state)).join(' ');
    lines.push(
      `pod ${p.metadata?.name}: ${p.status?.phase} node=${p.spec?.nodeName} deleting=${!!p.metadata?.deletionTimestamp} owners=${p.metadata?.ownerReferences?.map((o) => `${o.kind}/${o.name}`).join(',')} ${state ?? ''}`,
    );
  }
  // pino levels: 40 warn, 50 error; plus the reconcile decisions that name a VM or a migration.
  const log = op
    .log()
    .split('\n')
    .filter((l) => /"level":(40|50|60)/.test(l) || /migration|runner pod/.test(l))
    .slice(-80);
  return [...lines, `operator log (last ${log.length} warnings/errors/migration lines):`, ...log].join('\n');
}

/** Resolves when the operator's log (since its latest start) matches. */
export function waitForLog(op: OperatorProcess, re: RegExp, timeoutMs: number): Promise<true> {
  return pollUntil(
    async () => {
      const log = op.log();
      const latest = log.slice(log.lastIndexOf('--- start '));
      return re.test(latest) ? true : undefined;
    },
    { timeoutMs, intervalMs: 100, description: `operator log ${re}` },
  );
}

/** The identity holding the operator's Lease (read over the test's own connection). */
export async function leaseHolder(cluster: LocalCluster): Promise<string> {
  const lease = await cluster.kubeConfig
    .makeApiClient(CoordinationV1Api)
    .readNamespacedLease({ name: LEASE_NAME, namespace: OPERATOR_NAMESPACE });
  return lease.spec?.holderIdentity ?? '';
}

/**
 * Watches every runner pod and records, per VM, the most runner pods that could be running at once:
 * pods not ended (a terminating pod counts — its runner may still run), migration targets excepted
 * (a migration has two by design). "Never two runners" means this never exceeds 1.
 */
export class RunnerPodWatcher {
  private readonly informer: Informer<V1Pod>;
  readonly maxLive = new Map<string, number>();
  readonly podsSeen = new Map<string, Set<string>>();

  constructor(kubeConfig: KubeConfig, core: CoreV1Api) {
    this.informer = new Informer<V1Pod>({
      name: 'fault-runner-pods',
      kubeConfig,
      path: '/api/v1/pods',
      labelSelector: 'vm.neon.tech/name',
      list: () => core.listPodForAllNamespaces({ labelSelector: 'vm.neon.tech/name' }),
    });
    this.informer.on(() => this.check());
  }

  async start(): Promise<void> {
    await this.informer.start();
  }

  async stop(): Promise<void> {
    await this.informer.stop();
  }

  /** Most runner pods of the VM that were live at once since the watch began. */
  max(namespace: string, vm: string): number {
    return this.maxLive.get(`${namespace}/${vm}`) ?? 0;
  }

  private check(): void {
    const live = new Map<string, number>();
    for (const pod of this.informer.list()) {
      const key = `${pod.metadata?.namespace}/${pod.metadata?.labels?.['vm.neon.tech/name']}`;
      const seen = this.podsSeen.get(key) ?? new Set<string>();
      seen.add(pod.metadata?.name ?? '');
      this.podsSeen.set(key, seen);
      if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') continue;
      const target = (pod.spec?.containers ?? []).some((c) =>
        (c.env ?? []).some((e) => e.name === 'RECEIVE_MIGRATION' && e.value === 'true'),
      );
      if (target) continue;
      live.set(key, (live.get(key) ?? 0) + 1);
    }
    for (const [key, n] of live) this.maxLive.set(key, Math.max(n, this.maxLive.get(key) ?? 0));
  }
}

/** Typed access to VMs and migrations with the retries faults make necessary (webhooks restarting). */
export class Vms {
  private readonly custom: CustomObjectsApi;
  private readonly core: CoreV1Api;

  constructor(
    cluster: LocalCluster,
    readonly namespace = 'default',
  ) {
    this.custom = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
    this.core = cluster.kubeConfig.makeApiClient(CoreV1Api);
  }

  private resource(plural: string) {
    return { group: GROUP, version: VERSION, namespace: this.namespace, plural };
  }

  /** Creates an object, retrying while the admission webhooks do not answer (operator restarting). */
  async create(plural: 'virtualmachines' | 'virtualmachinemigrations', body: object): Promise<void> {
    await pollUntil(
      () =>
        this.custom.createNamespacedCustomObject({ ...this.resource(plural), body }).then(
          () => true,
          (err: unknown) => {
            if ((err as { code?: number }).code === 409) return true;
            throw err;
          },
        ),
      { timeoutMs: 300_000, intervalMs: 500, description: `create ${plural}` },
    );
  }

  async vm(name: string): Promise<VirtualMachine> {
    return (await this.custom.getNamespacedCustomObject({
      ...this.resource('virtualmachines'),
      name,
    })) as VirtualMachine;
  }

  async migration(name: string): Promise<VirtualMachineMigration> {
    return (await this.custom.getNamespacedCustomObject({
      ...this.resource('virtualmachinemigrations'),
      name,
    })) as VirtualMachineMigration;
  }

  waitVm(name: string, what: string, ok: (vm: VirtualMachine) => boolean, timeoutMs = 600_000) {
    return pollUntil(
      async () => {
        const vm = await this.vm(name).catch(() => undefined);
        return vm && ok(vm) ? vm : undefined;
      },
      { timeoutMs, intervalMs: 250, description: `VM ${name}: ${what}` },
    );
  }

  waitMigration(name: string, ok: (m: VirtualMachineMigration) => boolean, timeoutMs = 600_000) {
    return pollUntil(
      async () => {
        const m = await this.migration(name).catch(() => undefined);
        return m && ok(m) ? m : undefined;
      },
      { timeoutMs, intervalMs: 100, description: `migration ${name}` },
    );
  }

  /** A JSON patch of the VM's spec, retried while the webhooks do not answer. */
  async patchCpus(name: string, use: number): Promise<void> {
    const body = [{ op: 'replace', path: '/spec/guest/cpus/use', value: use }];
    await pollUntil(
      () =>
        this.custom
          .patchNamespacedCustomObject(
            { ...this.resource('virtualmachines'), name, body },
            setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
          )
          .then(() => true),
      { timeoutMs: 300_000, intervalMs: 500, description: `patch ${name} cpus.use=${use}` },
    );
  }

  /** Deletes a VM and waits until it and its runner pods are gone. */
  async deleteVm(name: string): Promise<void> {
    await this.custom
      .deleteNamespacedCustomObject({ ...this.resource('virtualmachines'), name })
      .catch((err: unknown) => {
        if ((err as { code?: number }).code !== 404) throw err;
      });
    await pollUntil(
      async () => {
        const vm = await this.vm(name).catch(() => undefined);
        return !vm && (await this.runnerPods(name)).length === 0 ? true : undefined;
      },
      { timeoutMs: 180_000, intervalMs: 500, description: `VM ${name} and its pods deleted` },
    );
  }

  async runnerPods(vm: string): Promise<V1Pod[]> {
    return (
      await this.core.listNamespacedPod({
        namespace: this.namespace,
        labelSelector: `vm.neon.tech/name=${vm}`,
      })
    ).items;
  }

  /**
   * What a failed migration scenario needs to be understood after the stack is gone: every runner pod
   * of the VM (phase, how its containers ended, the last lines of its runner's log) and the migration's
   * phase and conditions. Best effort: a part that cannot be read says why.
   */
  async diagnose(vm: string, migration: string, logLines = 60): Promise<string> {
    const out: string[] = [];
    try {
      const m = await this.migration(migration);
      out.push(
        `migration ${migration}: ${m.status?.phase ?? ''} ${JSON.stringify(m.status?.conditions ?? [])}`,
      );
    } catch (err) {
      out.push(`migration ${migration}: ${(err as Error).message}`);
    }
    for (const pod of await this.runnerPods(vm).catch(() => [])) {
      const name = pod.metadata?.name ?? '';
      const ended = pod.status?.containerStatuses?.map((c) => ({ name: c.name, state: c.state }));
      const deleting = pod.metadata?.deletionTimestamp
        ? ` (deleted at ${String(pod.metadata.deletionTimestamp)})`
        : '';
      out.push(`pod ${name}: ${pod.status?.phase ?? ''}${deleting} ${JSON.stringify(ended ?? [])}`);
      const log = await this.core
        .readNamespacedPodLog({ name, namespace: this.namespace, container: RUNNER_CONTAINER_NAME })
        .catch((err: unknown) => `(no log: ${(err as Error).message})`);
      out.push(
        ...String(log)
          .split('\n')
          .slice(-logLines)
          .map((l) => `  ${name}| ${l}`),
      );
    }
    return out.join('\n');
  }

  /**
   * Keeps the last lines of a pod's runner log, read every second until `stop()`: a pod deleted after a
   * failure takes its log with it, and the lines before its end are the ones that say why it ended.
   */
  keepRunnerLog(pod: string, lines = 80): { latest(): string; stop(): void } {
    let latest = '';
    let stopped = false;
    void (async () => {
      while (!stopped) {
        const log = await this.core
          .readNamespacedPodLog({
            name: pod,
            namespace: this.namespace,
            container: RUNNER_CONTAINER_NAME,
            tailLines: lines,
          })
          .catch(() => undefined);
        if (log) latest = String(log);
        await new Promise((r) => setTimeout(r, 1000));
      }
    })();
    return { latest: () => latest, stop: () => (stopped = true) };
  }

  /** The runner API of a pod, with the VM's token. */
  async runner(vm: string, pod: V1Pod): Promise<RunnerClient> {
    const secret = await this.core.readNamespacedSecret({
      name: `runner-token-neonvm-${vm}`,
      namespace: this.namespace,
    });
    return new RunnerClient({
      baseUrl: `http://${pod.status?.podIP}:25183`,
      token: Buffer.from(secret.data?.token ?? '', 'base64').toString('utf8'),
      timeoutMs: 5_000,
    });
  }

  /** Polls a pod's runner `GET /qemu` until `ok` (fast: faults are timed against it). */
  async waitQemu(
    vm: string,
    podName: string,
    ok: (q: QemuState) => boolean,
    timeoutMs = 300_000,
  ): Promise<QemuState> {
    const pod = await this.core.readNamespacedPod({ name: podName, namespace: this.namespace });
    const runner = await this.runner(vm, pod);
    return pollUntil(
      async () => {
        const q = await runner.qemuState().catch(() => undefined);
        return q && ok(q) ? q : undefined;
      },
      { timeoutMs, intervalMs: 25, description: `QEMU of ${podName}` },
    );
  }
}
