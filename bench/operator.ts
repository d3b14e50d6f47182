/**
 * The operator against the local cluster with simulated runners (a static runner API per pod):
 * VM apply → Running latency against a bare runner-like pod's create → Ready (the ratio is what the
 * operator adds: finalizer, defaults, podName persisted, secrets, pod, status), then 200 VMs: reconcile
 * p50/p99 from the operator's own histogram and its resident memory against its idle RSS; and the
 * same latency for VMs with spec.tls (cert-manager's controllers sign with a CA issuer) against VMs
 * without. The operator
 * runs as its own process (`operator/main.ts`), exactly as deployed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, type V1Pod } from '@kubernetes/client-node';
import {
  createCaClusterIssuer,
  ensureK8sBinaries,
  startCertManager,
  startLocalCluster,
  type LocalCluster,
} from '../cluster';
import { percentile } from './percentile';
import { freePort, pollUntil } from '../host';
import { GROUP, VERSION, type VirtualMachine } from '../crds';
import {
  FAKE_DISK_IMAGE,
  FAKE_RUNNER_IMAGE,
  REPO_ROOT,
  TSX_LOADER,
  installCrds,
  installRunnerShim,
  registerFakeImages,
} from '../test/operator/operator-env';
import type { BenchRow } from './table';

const LATENCY_SAMPLES = 10;
const MANY_VMS = 200;
const CREATE_CONCURRENCY = 10;

const BENCH_ISSUER = 'bench-ca';

const vmBody = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: `${GROUP}/${VERSION}`,
  kind: 'VirtualMachine',
  metadata: { name },
  spec: {
    ...extra,
    enableSSH: false,
    guest: {
      cpus: { min: 1, max: 4, use: 1 },
      memorySlots: { min: 1, max: 4, use: 1 },
      rootDisk: { image: FAKE_DISK_IMAGE },
    },
  },
});

const barePod = (name: string): V1Pod => ({
  metadata: { name },
  spec: {
    restartPolicy: 'Never',
    containers: [
      {
        name: 'runner',
        image: FAKE_RUNNER_IMAGE,
        command: ['runner'],
        // The runner pod's own probe (upstream: initial delay 5 s, period 5 s): the ratio is the operator's share.
        readinessProbe: {
          httpGet: { path: '/ready', port: 25183 },
          initialDelaySeconds: 5,
          periodSeconds: 5,
          failureThreshold: 3,
        },
      },
    ],
  },
});

function startOperatorProcess(cluster: LocalCluster, metricsPort: number): ChildProcess {
  return spawn(
    process.execPath,
    [
      '--import', TSX_LOADER, join(REPO_ROOT, 'operator/main.ts'),
      '--kubeconfig', cluster.kubeconfigPath, '--runner-image', FAKE_RUNNER_IMAGE, '--no-device-plugin-resources',
      '--disable-runner-cgroup', '--webhook-port', '-1', '--metrics-bind-address', `127.0.0.1:${metricsPort}`,
      '--health-probe-bind-address', '0', '--concurrency-limit', '8', '--log-level', 'warn',
    ], // prettier-ignore
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
}

async function scrape(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  return res.text();
}

function metricValue(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : NaN;
}

/** histogram_quantile over `reconcile_duration_seconds` buckets of one controller (all outcomes). */
function reconcileQuantile(text: string, controller: string, q: number): number {
  const buckets = new Map<number, number>();
  for (const line of text.split('\n')) {
    const m = /^reconcile_duration_seconds_bucket\{(.*)\} (\S+)$/.exec(line);
    if (!m || !m[1].includes(`controller="${controller}"`)) continue;
    const le = /le="([^"]+)"/.exec(m[1])?.[1] ?? '+Inf';
    const bound = le === '+Inf' ? Infinity : Number(le);
    buckets.set(bound, (buckets.get(bound) ?? 0) + Number(m[2]));
  }
  const sorted = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
  const total = sorted.at(-1)?.[1] ?? 0;
  const rank = q * total;
  let prevBound = 0;
  let prevCount = 0;
  for (const [bound, count] of sorted) {
    if (count >= rank) {
      if (bound === Infinity) return prevBound;
      return prevBound + ((bound - prevBound) * (rank - prevCount)) / Math.max(1, count - prevCount);
    }
    prevBound = bound;
    prevCount = count;
  }
  return NaN;
}

async function timeUntil(check: () => Promise<boolean>, t0: number): Promise<number> {
  await pollUntil(async () => ((await check()) ? true : undefined), {
    timeoutMs: 120_000,
    intervalMs: 50,
    description: 'condition',
  });
  return performance.now() - t0;
}

async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

export default async function benchOperator(): Promise<BenchRow[]> {
  const shimDir = installRunnerShim('static');
  const binaries = await ensureK8sBinaries();
  const cluster = await startLocalCluster({
    nodes: 3,
    binaries,
    nodeCapacity: { cpu: '64', memory: '256Gi', pods: '250' },
  });
  let operator: ChildProcess | undefined;
  let stopCertManager: (() => Promise<void>) | undefined;
  try {
    await installCrds(cluster);
    registerFakeImages(cluster, shimDir);
    const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    const custom = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
    const ns = 'bench';
    await core.createNamespace({ body: { metadata: { name: ns } } });
    await pollUntil(() => core.readNamespacedServiceAccount({ name: 'default', namespace: ns }), {
      timeoutMs: 30_000,
      description: 'default SA',
    });

    // Baseline: a runner-like pod created directly, until Ready.
    const podLatencies: number[] = [];
    for (let i = 0; i < LATENCY_SAMPLES; i++) {
      const t0 = performance.now();
      await core.createNamespacedPod({ namespace: ns, body: barePod(`bare-${i}`) });
      podLatencies.push(
        await timeUntil(async () => {
          const pod = await core.readNamespacedPod({ namespace: ns, name: `bare-${i}` });
          return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
        }, t0),
      );
    }

    const metricsPort = await freePort();
    operator = startOperatorProcess(cluster, metricsPort);
    await pollUntil(() => scrape(metricsPort).then(() => true), {
      timeoutMs: 60_000,
      description: 'operator metrics',
    });
    await new Promise((r) => setTimeout(r, 2_000));
    const idleRss = metricValue(await scrape(metricsPort), 'process_resident_memory_bytes') / 2 ** 20;

    const getVm = async (name: string) =>
      (await custom.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        plural: 'virtualmachines',
        namespace: ns,
        name,
      })) as VirtualMachine;
    const createVm = (name: string, extra?: Record<string, unknown>) =>
      custom.createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        plural: 'virtualmachines',
        namespace: ns,
        body: vmBody(name, extra),
      });

    const vmLatencies: number[] = [];
    for (let i = 0; i < LATENCY_SAMPLES; i++) {
      const t0 = performance.now();
      await createVm(`lat-${i}`);
      vmLatencies.push(
        await timeUntil(async () => (await getVm(`lat-${i}`)).status?.phase === 'Running', t0),
      );
    }

    // spec.tls: the same, with a certificate from cert-manager's CA issuer before the pod is made.
    const certManager = await startCertManager(cluster);
    stopCertManager = () => certManager.stop();
    await createCaClusterIssuer(cluster, certManager, BENCH_ISSUER);
    const tlsLatencies: number[] = [];
    for (let i = 0; i < LATENCY_SAMPLES; i++) {
      const t0 = performance.now();
      await createVm(`tls-${i}`, { tls: { certificateIssuer: BENCH_ISSUER, serverName: `tls-${i}.bench` } });
      tlsLatencies.push(
        await timeUntil(async () => (await getVm(`tls-${i}`)).status?.phase === 'Running', t0),
      );
    }

    const names = Array.from({ length: MANY_VMS }, (_, i) => `many-${i}`);
    const t0 = performance.now();
    await inBatches(names, CREATE_CONCURRENCY, createVm);
    await pollUntil(
      async () => {
        const list = (await custom.listNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          plural: 'virtualmachines',
          namespace: ns,
        })) as {
          items: VirtualMachine[];
        };
        return list.items.filter((v) => v.status?.phase === 'Running').length >=
          MANY_VMS + 2 * LATENCY_SAMPLES
          ? true
          : undefined;
      },
      { timeoutMs: 20 * 60_000, intervalMs: 1000, description: `${MANY_VMS} VMs Running` },
    );
    const allRunningS = (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 5_000));
    const metrics = await scrape(metricsPort);
    const rss = metricValue(metrics, 'process_resident_memory_bytes') / 2 ** 20;

    const row = (name: string, values: number[], p: number): BenchRow => {
      const value = percentile(values, p);
      const baseline = percentile(podLatencies, p);
      return {
        name,
        value,
        unit: 'ms',
        baseline,
        baselineName: `bare runner pod create→Ready p${p}`,
        ratio: value / baseline,
      };
    };
    return [
      row('VM apply → Running p50 (simulated runner)', vmLatencies, 50),
      row('VM apply → Running p99 (simulated runner)', vmLatencies, 99),
      {
        name: 'VM with spec.tls apply → Running p50 (cert-manager CA issuer)',
        value: percentile(tlsLatencies, 50),
        unit: 'ms',
        baseline: percentile(vmLatencies, 50),
        baselineName: 'VM without spec.tls p50',
        ratio: percentile(tlsLatencies, 50) / percentile(vmLatencies, 50),
      },
      { name: `${MANY_VMS} VMs: all Running`, value: allRunningS, unit: 's' },
      {
        name: `${MANY_VMS} VMs: VM reconcile p50`,
        value: reconcileQuantile(metrics, 'virtualmachine', 0.5) * 1000,
        unit: 'ms',
      },
      {
        name: `${MANY_VMS} VMs: VM reconcile p99`,
        value: reconcileQuantile(metrics, 'virtualmachine', 0.99) * 1000,
        unit: 'ms',
      },
      {
        name: `operator RSS with ${MANY_VMS + 2 * LATENCY_SAMPLES} VMs`,
        value: rss,
        unit: 'MiB',
        baseline: idleRss,
        baselineName: 'operator RSS idle',
        ratio: rss / idleRss,
      },
    ];
  } finally {
    operator?.kill('SIGTERM');
    await stopCertManager?.();
    await cluster.stop();
    rmSync(shimDir, { recursive: true, force: true });
  }
}
