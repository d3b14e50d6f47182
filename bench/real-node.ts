/**
 * Real nodes (kubelet + containerd + runc + CNI) against the node agent: the real-node toolchain's cold
 * build (recorded by its build script), a real node's start until Ready, and pod create → Running (seen
 * through a watch, one pod at a time) on the real node, with the same measurement on a node-agent node
 * of the same cluster as the baseline: the ratio is what a real container runtime costs per pod here.
 */
import { CoreV1Api, KubeConfig, V1Container, V1Pod, Watch } from '@kubernetes/client-node';
import {
  ensureK8sBinaries,
  ensureNodeToolchain,
  isClean,
  readNodeToolchainTiming,
  startLocalCluster,
  startRealNode,
} from '../cluster';
import { ensurePauseImage, ensureTestBusyboxImage, TEST_BUSYBOX_IMAGE_REF } from '../image/node-images';
import { percentile } from './percentile';
import type { BenchRow } from './table';

const PODS = 10;

/** Create → Running of one pod at a time on `nodeName`; each pod is deleted before the next. */
async function podLatencies(
  kubeConfig: KubeConfig,
  core: CoreV1Api,
  nodeName: string,
  container: V1Container,
): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < PODS; i++) {
    const name = `${nodeName}-${i}`;
    let running!: () => void;
    const seen = new Promise<void>((resolve) => (running = resolve));
    const abort = await new Watch(kubeConfig).watch(
      '/api/v1/namespaces/default/pods',
      { fieldSelector: `metadata.name=${name}` },
      (_phase: string, pod: V1Pod) => {
        if (pod.status?.phase === 'Running') running();
      },
      () => undefined,
    );
    try {
      const t0 = performance.now();
      await core.createNamespacedPod({
        namespace: 'default',
        body: {
          metadata: { name },
          spec: { nodeName, terminationGracePeriodSeconds: 0, containers: [container] },
        },
      });
      const timeout = new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`pod ${name} not Running after 120 s`)), 120_000).unref(),
      );
      await Promise.race([seen, timeout]);
      out.push(performance.now() - t0);
    } finally {
      abort.abort();
    }
    await core.deleteNamespacedPod({ name, namespace: 'default', gracePeriodSeconds: 0 });
  }
  return out;
}

export default async function benchRealNode(): Promise<BenchRow[]> {
  const [binaries, toolchain] = await Promise.all([ensureK8sBinaries(), ensureNodeToolchain()]);
  const timing = readNodeToolchainTiming();
  const [sandboxImage, busybox] = await Promise.all([
    ensurePauseImage(toolchain.pause),
    ensureTestBusyboxImage(),
  ]);
  const cluster = await startLocalCluster({ binaries, nodes: 1 });
  try {
    const node = await startRealNode(cluster, { sandboxImage, images: [busybox], toolchain });
    let rows: BenchRow[];
    try {
      const core = cluster.clients(CoreV1Api);
      const sleep = ['sleep', '3600'];
      const real = await podLatencies(cluster.kubeConfig, core, node.name, {
        name: 'main',
        image: TEST_BUSYBOX_IMAGE_REF,
        imagePullPolicy: 'Never',
        command: sleep,
      });
      const agent = await podLatencies(cluster.kubeConfig, core, cluster.nodeNames[0], {
        name: 'main',
        image: 'busybox',
        command: sleep,
      });
      const row = (p: number): BenchRow => ({
        name: `pod create → Running p${p} on a real node, one at a time (${PODS} pods)`,
        value: percentile(real, p),
        unit: 'ms',
        baseline: percentile(agent, p),
        baselineName: `same on a node-agent node`,
        ratio: percentile(real, p) / percentile(agent, p),
      });
      rows = [
        {
          name: `node toolchain build (containerd, runc, crictl, CNI, Whereabouts, kube-proxy; recorded${timing ? '' : ': none'})`,
          value: timing?.totalSeconds ?? NaN,
          unit: 's',
        },
        {
          name: 'real node start → Ready (netns, containerd, image import, kubelet, kube-proxy)',
          value: node.readyMs,
          unit: 'ms',
        },
        row(50),
        row(90),
      ];
    } finally {
      const left = await node.stop();
      if (!isClean(left)) console.error(`real node left things behind: ${JSON.stringify(left)}`);
    }
    return rows;
  } finally {
    await cluster.stop();
  }
}
