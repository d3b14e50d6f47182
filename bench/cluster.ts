/**
 * The local cluster's costs: building the control plane (read from the build's timing file when the
 * binaries are cached), starting a 3-node cluster, and pod start latency — create to Running as seen
 * through a watch. One pod at a time is measured against the API server's own write latency (creating
 * ConfigMaps): the ratio is what scheduling plus our node agent add on top of a bare API write. A burst
 * is measured against one pod at a time from the same run (issue #21: within 3×), and split into
 * create → bound (the scheduler) and bound → Running (the node agent) to show where the time goes.
 */
import { CoreV1Api, KubeConfig, V1Pod, Watch } from '@kubernetes/client-node';
import { ensureK8sBinaries, readBuildTiming, startLocalCluster } from '../cluster';
import { percentile } from './percentile';
import type { BenchRow } from './table';

const PODS = 50;
const CONFIGMAPS = 50;
/** Pods are created this many at a time: a burst like a Deployment scale-up, without queueing all 50. */
const POD_CONCURRENCY = 5;
const SINGLE_PODS = 10;

async function configMapWriteLatencies(core: CoreV1Api, namespace: string): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < CONFIGMAPS; i++) {
    const t0 = performance.now();
    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: `cm-${i}` }, data: { i: String(i) } },
    });
    latencies.push(performance.now() - t0);
  }
  return latencies;
}

/** Milliseconds from each pod's create call to its binding and to Running, as seen through a watch. */
interface PodLatencies {
  bound: number[];
  running: number[];
  /** running - bound, per pod: the node agent's share. */
  boundToRunning: number[];
}

/** One pod at a time, each waited for: latency without queueing behind other pods. */
async function singlePodLatencies(
  kubeConfig: KubeConfig,
  core: CoreV1Api,
  namespace: string,
): Promise<PodLatencies> {
  const all: PodLatencies = { bound: [], running: [], boundToRunning: [] };
  for (let i = 0; i < SINGLE_PODS; i++) {
    const one = await podRunningLatencies(kubeConfig, core, namespace, `single-${i}`, 1, 1);
    all.bound.push(...one.bound);
    all.running.push(...one.running);
    all.boundToRunning.push(...one.boundToRunning);
  }
  return all;
}

/** Create → bound and → Running (seen through a watch) of `count` pods, created `concurrency` at a time. */
async function podRunningLatencies(
  kubeConfig: KubeConfig,
  core: CoreV1Api,
  namespace: string,
  prefix = 'pod',
  count = PODS,
  concurrency = POD_CONCURRENCY,
): Promise<PodLatencies> {
  const created = new Map<string, number>();
  const bound = new Map<string, number>();
  const latencies = new Map<string, number>();
  let allRunning!: () => void;
  const done = new Promise<void>((resolve) => (allRunning = resolve));
  const abort = await new Watch(kubeConfig).watch(
    `/api/v1/namespaces/${namespace}/pods`,
    {},
    (_phase: string, pod: V1Pod) => {
      const name = pod.metadata?.name ?? '';
      const start = created.get(name);
      if (start === undefined) return;
      if (pod.spec?.nodeName && !bound.has(name)) bound.set(name, performance.now() - start);
      if (pod.status?.phase !== 'Running' || latencies.has(name)) return;
      latencies.set(name, performance.now() - start);
      if (latencies.size === count) allRunning();
    },
    () => undefined,
  );
  try {
    for (let i = 0; i < count; i += concurrency) {
      await Promise.all(
        Array.from({ length: Math.min(concurrency, count - i) }, async (_, j) => {
          const name = `${prefix}-${i + j}`;
          created.set(name, performance.now());
          await core.createNamespacedPod({
            namespace,
            body: {
              metadata: { name },
              spec: {
                terminationGracePeriodSeconds: 0,
                containers: [{ name: 'main', image: 'neonvm-test/pause' }],
              },
            },
          });
        }),
      );
    }
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(
        () => reject(new Error(`only ${latencies.size}/${count} pods Running after 120 s`)),
        120_000,
      ).unref(),
    );
    await Promise.race([done, timeout]);
  } finally {
    abort.abort();
  }
  const names = [...latencies.keys()];
  return {
    bound: [...bound.values()],
    running: [...latencies.values()],
    // A pod first seen already Running (both in one event) counts as bound at that moment.
    boundToRunning: names.map((n) => (latencies.get(n) ?? 0) - (bound.get(n) ?? latencies.get(n) ?? 0)),
  };
}

export default async function benchCluster(): Promise<BenchRow[]> {
  const cached = readBuildTiming();
  const buildStart = Date.now();
  const binaries = await ensureK8sBinaries();
  const buildSeconds = readBuildTiming()?.totalSeconds ?? (Date.now() - buildStart) / 1000;

  const cluster = await startLocalCluster({ binaries, nodes: 3 });
  try {
    // Keep-alive clients for both series, so the ratio compares server-side work, not TLS handshakes.
    const core = cluster.clients(CoreV1Api);
    const namespace = 'bench';
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    for (let i = 0; ; i++) {
      try {
        await core.readNamespacedServiceAccount({ name: 'default', namespace });
        break;
      } catch (err) {
        if (i > 100) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const writes = await configMapWriteLatencies(core, namespace);
    const single = await singlePodLatencies(cluster.kubeConfig, core, namespace);
    const pods = await podRunningLatencies(cluster.kubeConfig, core, namespace);
    const row = (
      name: string,
      values: number[],
      p: number,
      base: number[],
      baseName: string,
      target?: string,
    ): BenchRow => {
      const value = percentile(values, p);
      const baseline = percentile(base, p);
      return { name, value, unit: 'ms', baseline, baselineName: baseName, ratio: value / baseline, target };
    };
    return [
      {
        name: `control plane cold build${cached ? ' (recorded)' : ''}`,
        value: buildSeconds,
        unit: 's',
        target: '≤ 25 min on 2 cores',
      },
      {
        name: 'control plane start (ready + default SA)',
        value: cluster.controlPlaneStartupMs,
        unit: 'ms',
      },
      { name: 'local cluster start, 3 nodes (warm)', value: cluster.startupMs, unit: 'ms' },
      row(
        `pod create → Running p50, one at a time (${SINGLE_PODS} pods)`,
        single.running,
        50,
        writes,
        'ConfigMap create p50',
      ),
      row(
        `pod create → Running p50, burst (${PODS} pods, ${POD_CONCURRENCY} at a time)`,
        pods.running,
        50,
        single.running,
        'one at a time p50',
        '≤ 3×',
      ),
      row(
        `pod create → Running p99, burst (${PODS} pods)`,
        pods.running,
        99,
        single.running,
        'one at a time p99',
      ),
      row(`burst: create → bound p50 (scheduler)`, pods.bound, 50, single.bound, 'one at a time p50'),
      row(
        `burst: bound → Running p50 (node agent)`,
        pods.boundToRunning,
        50,
        single.boundToRunning,
        'one at a time p50',
      ),
      { name: `ConfigMap create p50 (${CONFIGMAPS})`, value: percentile(writes, 50), unit: 'ms' },
      { name: `ConfigMap create p99 (${CONFIGMAPS})`, value: percentile(writes, 99), unit: 'ms' },
    ];
  } finally {
    await cluster.stop();
  }
}
