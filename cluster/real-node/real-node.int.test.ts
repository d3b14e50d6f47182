/**
 * A real node (kubelet 1.37.2 + containerd 2.4 + runc + CNI) in the local cluster, next to a node-agent
 * node: it registers and becomes Ready, runs a plain busybox pod whose logs and exec go through the API
 * server, gives it an address from the CNI that the host reaches, and stop() leaves nothing behind.
 * Needs root (namespaces, cgroups, mounts); skipped otherwise, saying so in its title.
 */
import { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { get } from 'node:http';
import { promisify } from 'node:util';
import { ensurePauseImage, ensureTestBusyboxImage, TEST_BUSYBOX_IMAGE_REF } from '../../image/node-images';
import { ensureK8sBinaries, ensureNodeToolchain, NODE_TOOLCHAIN_VERSIONS } from '../build';
import { LocalCluster, startLocalCluster } from '../local-cluster';
import { pollUntil } from '../../host';
import { isClean, RealNode, RealNodeLeftovers, startRealNode } from '.';

const run = promisify(execFile);
const isRoot = process.getuid?.() === 0;
const suite = isRoot ? describe : describe.skip;
const title = isRoot
  ? 'real node (kubelet + containerd) in the local cluster'
  : 'real node — SKIPPED: needs root (mount namespaces, cgroups, bridge ports)';

/** Covers cold builds of the Kubernetes binaries and the node toolchain (or waiting for CI's). */
const SETUP_TIMEOUT_MS = 90 * 60_000;
jest.setTimeout(240_000);

function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get(url, { timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
  });
}

suite(title, () => {
  let cluster: LocalCluster;
  let node: RealNode;
  let core: CoreV1Api;
  let leftovers: RealNodeLeftovers | undefined;
  const kubectl = async (...args: string[]): Promise<string> =>
    (await run(cluster.binaries.kubectl, ['--kubeconfig', cluster.kubeconfigPath, ...args])).stdout;

  const busyboxPod = (name: string, nodeName: string, command: string[]): V1Pod => ({
    metadata: { name },
    spec: {
      nodeName,
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 2,
      containers: [{ name: 'main', image: TEST_BUSYBOX_IMAGE_REF, imagePullPolicy: 'Never', command }],
    },
  });

  const waitRunning = (name: string, timeoutMs = 120_000): Promise<V1Pod> =>
    pollUntil(
      async () => {
        const pod = await core.readNamespacedPod({ name, namespace: 'default' });
        return pod.status?.phase === 'Running' ? pod : undefined;
      },
      { timeoutMs, intervalMs: 50, description: `pod ${name} Running` },
    );

  beforeAll(async () => {
    const [binaries, toolchain] = await Promise.all([ensureK8sBinaries(), ensureNodeToolchain()]);
    const [sandboxImage, busybox] = await Promise.all([
      ensurePauseImage(toolchain.pause),
      ensureTestBusyboxImage(),
    ]);
    cluster = await startLocalCluster({ binaries, nodes: 1 });
    core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    node = await startRealNode(cluster, { sandboxImage, images: [busybox], toolchain, log: console.log });
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    leftovers = await node?.stop();
    await cluster?.stop();
  }, 120_000);

  it('registers with its client certificate and becomes Ready, reporting containerd and its pod range', async () => {
    const n = await core.readNode({ name: node.name });
    expect(n.status?.nodeInfo).toMatchObject({
      kubeletVersion: 'v1.37.2',
      containerRuntimeVersion: `containerd://${NODE_TOOLCHAIN_VERSIONS.containerd}`,
    });
    expect(n.status?.addresses).toContainEqual({ type: 'InternalIP', address: node.address });
    expect(n.spec?.podCIDR).toBe(node.podCidr);
    expect(n.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    // The node-agent node is still there, side by side.
    expect((await core.listNode()).items.map((x) => x.metadata?.name).sort()).toEqual([
      node.name,
      'neonvm-node-1',
    ]);
    console.log(
      `real node ${node.name} Ready ${node.readyMs} ms after start (snapshotter ${node.snapshotter})`,
    );
  });

  it('runs a busybox pod: CNI address reachable from the host, logs and exec through the API server', async () => {
    const script =
      'mkdir -p /www && echo "hello from $(hostname)" > /www/index.html && echo started && exec httpd -f -p 8080 -h /www';
    await core.createNamespacedPod({
      namespace: 'default',
      body: busyboxPod('web', node.name, ['sh', '-c', script]),
    });
    const pod = await waitRunning('web');
    const ip = pod.status!.podIP!;
    expect(ip.startsWith(node.podCidr.replace(/0\/24$/, ''))).toBe(true);
    expect(
      await pollUntil(() => httpGet(`http://${ip}:8080/`), { timeoutMs: 20_000, description: 'httpd' }),
    ).toBe('hello from web\n');
    expect(
      await pollUntil(async () => ((await kubectl('logs', 'web')).includes('started') ? true : undefined), {
        timeoutMs: 20_000,
        description: 'kubectl logs',
      }),
    ).toBe(true);
    // A container of its own: PID 1 is the pod's process, and ps lists nothing of the host.
    const ps = await kubectl('exec', 'web', '--', 'ps', '-o', 'pid,args');
    expect(ps).toMatch(/^\s*1\s+httpd -f -p 8080/m);
    expect(ps.trim().split('\n').length).toBeLessThan(6);
    await expect(kubectl('exec', 'web', '--', 'sh', '-c', 'exit 3')).rejects.toThrow(/exit code 3/);

    await core.deleteNamespacedPod({ name: 'web', namespace: 'default' });
    await pollUntil(
      async () =>
        (await core.listNamespacedPod({ namespace: 'default' })).items.length === 0 ? true : undefined,
      { timeoutMs: 60_000, description: 'pod web deleted' },
    );
    expect((await node.crictl('pods', '--quiet')).trim()).toBe('');
  });

  it('measures pod create → Running on the real node and on the node-agent node', async () => {
    const samples: Record<string, number[]> = { real: [], agent: [] };
    for (let i = 0; i < 5; i++) {
      for (const [kind, nodeName] of [
        ['real', node.name],
        ['agent', 'neonvm-node-1'],
      ] as const) {
        const name = `t-${kind}-${i}`;
        const pod = busyboxPod(name, nodeName, ['sleep', '3600']);
        if (kind === 'agent')
          pod.spec!.containers[0] = { name: 'main', image: 'busybox', command: ['sleep', '3600'] };
        const t0 = Date.now();
        await core.createNamespacedPod({ namespace: 'default', body: pod });
        await waitRunning(name);
        samples[kind].push(Date.now() - t0);
      }
    }
    for (const kind of ['real', 'agent'])
      console.log(
        `pod create→Running on the ${kind} node: median ${[...samples[kind]].sort((a, b) => a - b)[2]} ms, max ${Math.max(...samples[kind])} ms (${samples[kind].join(', ')})`,
      );
    await core.deleteCollectionNamespacedPod({ namespace: 'default', gracePeriodSeconds: 0 });
    await pollUntil(
      async () =>
        (await core.listNamespacedPod({ namespace: 'default' })).items.length === 0 ? true : undefined,
      { timeoutMs: 120_000, description: 'pods deleted' },
    );
  });

  it('stops with pods still running and leaves no process, cgroup, mount, link or directory behind', async () => {
    await core.createNamespacedPod({
      namespace: 'default',
      body: busyboxPod('left', node.name, ['sleep', '3600']),
    });
    await waitRunning('left');
    const dir = node.dir;
    leftovers = await node.stop();
    expect(leftovers).toEqual({ processes: [], cgroups: [], mounts: [], links: [], dirs: [] });
    expect(isClean(leftovers)).toBe(true);
    expect(existsSync(dir)).toBe(false);
    await expect(core.readNode({ name: node.name })).rejects.toMatchObject({ code: 404 });
  });
});
