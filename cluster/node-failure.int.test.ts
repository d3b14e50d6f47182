import { AppsV1Api, CoreV1Api, V1Pod } from '@kubernetes/client-node';
import { pollUntil } from '../host';
import { isReady, useLocalCluster } from './testing/local-cluster-fixture';

describe('node failure', () => {
  // Notice a silent node within seconds instead of the default 50 s; live nodes must then renew their
  // Leases well inside that grace period, or the controller sees every node fail at once.
  const cluster = useLocalCluster({
    extraArgs: { 'kube-controller-manager': ['--node-monitor-period=1s', '--node-monitor-grace-period=5s'] },
    heartbeat: { leaseRenewMs: 1000, leaseDurationSeconds: 5, statusRefreshMs: 2000 },
  });

  it('marks a node whose agent stopped as unreachable and reschedules its Deployment pod elsewhere', async () => {
    const core = cluster().clients(CoreV1Api);
    const apps = cluster().clients(AppsV1Api);
    const namespace = 'default';
    const labels = { app: 'survivor' };
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: 'survivor' },
        spec: {
          replicas: 1,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              terminationGracePeriodSeconds: 0,
              // Evicted 1 s after the node becomes unreachable (the default toleration is 300 s).
              tolerations: [
                {
                  key: 'node.kubernetes.io/unreachable',
                  operator: 'Exists',
                  effect: 'NoExecute',
                  tolerationSeconds: 1,
                },
              ],
              containers: [{ name: 'main', image: 'neonvm-test/pause' }],
            },
          },
        },
      },
    });
    const readyPods = async (): Promise<V1Pod[]> =>
      (await core.listNamespacedPod({ namespace, labelSelector: 'app=survivor' })).items.filter(
        (p) => isReady(p) && !p.metadata?.deletionTimestamp,
      );
    const [first] = await pollUntil(
      async () => ((await readyPods()).length === 1 ? readyPods() : undefined),
      {
        timeoutMs: 30_000,
        description: 'the first pod',
      },
    );
    const failed = first.spec!.nodeName!;

    // Stopping an agent is what a dead machine looks like: no more leases, statuses or processes.
    await cluster()
      .nodes.find((n) => n.name === failed)!
      .stop();

    await pollUntil(
      async () => {
        const node = await core.readNode({ name: failed });
        const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
        const tainted = node.spec?.taints?.some((t) => t.key === 'node.kubernetes.io/unreachable');
        return ready?.status === 'Unknown' && tainted ? true : undefined;
      },
      { timeoutMs: 30_000, description: `node ${failed} to become unreachable` },
    );
    const replacement = await pollUntil(
      async () => (await readyPods()).find((p) => p.spec!.nodeName !== failed),
      { timeoutMs: 30_000, description: 'a replacement pod on another node' },
    );
    expect(cluster().nodeNames).toContain(replacement.spec!.nodeName);
  });
});
