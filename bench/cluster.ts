/**
 * The local cluster's costs: building the control plane (read from the build's timing file when the
 * binaries are cached), starting a 3-node cluster, and pod start latency — create to Running as seen
 * through a watch — against the API server's own write latency (creating ConfigMaps) as the baseline:
 * the ratio is what scheduling plus our node agent add on top of a bare API write.
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

/** One pod at a time, each waited for: latency without queueing behind other pods. */
async function singlePodLatencies(
  kubeConfig: KubeConfig,
  core: CoreV1Api,
  namespace: string,
): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < SINGLE_PODS; i++) {
    latencies.push(...(await podRunningLatencies(kubeConfig, core, namespace, `single-${i}`, 1, 1)));
  }
  return latencies;
}

/** Create → Running (seen through a watch) of `count` pods, created `concurrency` at a time. */
async function podRunningLatencies(
  kubeConfig: KubeConfig,
  core: CoreV1Api,
  namespace: string,
  prefix = 'pod',
  count = PODS,
  concurrency = POD_CONCURRENCY,
): Promise<number[]> {
  const created = new Map<string, number>();
  const latencies = new Map<string, number>();
  let allRunning!: () => void;
  const done = new Promise<void>((resolve) => (allRunning = resolve));
  const abort = await new Watch(kubeConfig).watch(
    `/api/v1/namespaces/${namespace}/pods`,
    {},
    (_phase: string, pod: V1Pod) => {
      const name = pod.metadata?.name ?? '';
      const start = created.get(name);
      if (pod.status?.phase !== 'Running' || start === undefined || latencies.has(name)) return;
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
  return [...latencies.values()];
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
    const row = (name: string, values: number[], p: number, base: number[]): BenchRow => {
      const value = percentile(values, p);
      const baseline = percentile(base, p);
      return {
        name,
        value,
        unit: 'ms',
        baseline,
        baselineName: `ConfigMap create p${p}`,
        ratio: value / baseline,
      };
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
      row(`pod create → Running p50, one at a time (${SINGLE_PODS} pods)`, single, 50, writes),
      row(`pod create → Running p50, burst (${PODS} pods, ${POD_CONCURRENCY} at a time)`, pods, 50, writes),
      row(`pod create → Running p99, burst (${PODS} pods)`, pods, 99, writes),
      { name: `ConfigMap create p50 (${CONFIGMAPS})`, value: percentile(writes, 50), unit: 'ms' },
      { name: `ConfigMap create p99 (${CONFIGMAPS})`, value: percentile(writes, 99), unit: 'ms' },
    ];
  } finally {
    await cluster.stop();
  }
}
