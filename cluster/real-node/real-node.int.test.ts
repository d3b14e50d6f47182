/**
 * A real node (kubelet 1.37.2 + containerd 2.4 + runc + CNI + kube-proxy) in the local cluster, next to
 * a node-agent node: it registers and becomes Ready, runs a plain busybox pod whose logs and exec go
 * through the API server, gives it an address from the CNI that the host and a node-agent pod reach,
 * lets it call the API server through the `kubernetes` Service, and stop() leaves nothing behind.
 * Needs root (namespaces, cgroups, mounts) and the node toolchain (waits for a running build); skipped
 * otherwise, saying so in its title.
 */
import { CoordinationV1Api, CoreV1Api, V1Pod } from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { get } from 'node:http';
import { promisify } from 'node:util';
import { ensurePauseImage, ensureTestBusyboxImage, TEST_BUSYBOX_IMAGE_REF } from '../../image/node-images';
import { ensureK8sBinaries, ensureNodeToolchain, NODE_TOOLCHAIN_VERSIONS } from '../build';
import { LocalCluster, startLocalCluster } from '../local-cluster';
import { pollUntil } from '../../host';
import { describeRealNodes } from '../testing';
import { isClean, RealNode, RealNodeLeftovers, sandboxHostVeths, startRealNode } from '.';

const run = promisify(execFile);
const suite = describeRealNodes();
const title = 'real node (kubelet + containerd) in the local cluster';

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
  /** A second real node on the same machine (a live migration needs two). */
  let node2: RealNode;
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
    const options = { sandboxImage, images: [busybox], toolchain, log: console.log };
    [node, node2] = await Promise.all([startRealNode(cluster, options), startRealNode(cluster, options)]);
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    leftovers = await node?.stop();
    await node2?.stop();
    await cluster?.stop();
  }, 120_000);

  it('registers with its client certificate and becomes Ready, reporting containerd and its pod range', async () => {
    const n = await core.readNode({ name: node.name });
    expect(n.status?.nodeInfo).toMatchObject({
      kubeletVersion: 'v1.37.2',
      // containerd reports its version without the tag's v.
      containerRuntimeVersion: `containerd://${NODE_TOOLCHAIN_VERSIONS.containerd.slice(1)}`,
    });
    expect(n.status?.addresses).toContainEqual({ type: 'InternalIP', address: node.address });
    expect(n.spec?.podCIDR).toBe(node.podCidr);
    expect(n.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    // The node-agent node is still there, side by side.
    expect((await core.listNode()).items.map((x) => x.metadata?.name).sort()).toEqual([
      'neonvm-node-1',
      'neonvm-real-1',
      'neonvm-real-2',
    ]);
    // The kubelet renews its own Lease, which the Node authorizer allows only to system:node:<name>.
    const leases = cluster.kubeConfig.makeApiClient(CoordinationV1Api);
    const lease = await pollUntil(
      () => leases.readNamespacedLease({ name: node.name, namespace: 'kube-node-lease' }),
      {
        timeoutMs: 30_000,
        description: `the Lease of ${node.name}`,
      },
    );
    expect(lease.spec?.holderIdentity).toBe(node.name);
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

    const [sandbox] = (await node.crictl('pods', '--name', 'web', '--quiet')).trim().split('\n');
    const veths = sandboxHostVeths(await node.crictl('inspectp', '--output', 'json', sandbox));
    expect(veths).toHaveLength(1);
    // The pod's veth is on the node's own bridge, in the node's network namespace, not on the host.
    expect(await node.exec('ip', '-o', 'link', 'show', 'dev', veths[0])).toContain('master cni0');
    await expect(run('ip', ['link', 'show', 'dev', veths[0]])).rejects.toThrow(/does not exist/);
    await core.deleteNamespacedPod({ name: 'web', namespace: 'default' });
    await pollUntil(
      async () =>
        (await core.listNamespacedPod({ namespace: 'default' })).items.length === 0 ? true : undefined,
      { timeoutMs: 60_000, description: 'pod web deleted' },
    );
    // The kubelet stops the sandbox (CNI DEL: the veth goes) at once and garbage-collects it later.
    await pollUntil(
      async () =>
        (await node.crictl('pods', '--state', 'ready', '--quiet')).trim() === '' ? true : undefined,
      { timeoutMs: 30_000, description: 'the sandbox of web stopped' },
    );
    await expect(node.exec('ip', 'link', 'show', 'dev', veths[0])).rejects.toThrow(/does not exist/);
  });

  it('gives pods the API server through the `kubernetes` Service (kube-proxy in the node namespace), and a node-agent pod reaches them', async () => {
    await core.createNamespacedPod({
      namespace: 'default',
      body: busyboxPod('incluster', node.name, ['httpd', '-f', '-p', '8080', '-h', '/etc']),
    });
    const pod = await waitRunning('incluster');
    // What in-cluster clients do: KUBERNETES_SERVICE_HOST/PORT, the service account's token and CA.
    // The client is the host's curl inside the pod's network namespace (busybox's TLS client cannot
    // talk to the API server), so the packets take the pod's path: its route via the node, kube-proxy's
    // DNAT in the node's namespace, the node's uplink, the API server on the cluster bridge.
    const env = await kubectl('exec', 'incluster', '--', 'sh', '-c', 'echo $KUBERNETES_SERVICE_HOST');
    const sa = '/var/run/secrets/kubernetes.io/serviceaccount';
    const token = await kubectl('exec', 'incluster', '--', 'cat', `${sa}/token`);
    const caFile = join(node.dir, 'incluster-ca.crt');
    writeFileSync(caFile, await kubectl('exec', 'incluster', '--', 'cat', `${sa}/ca.crt`));
    const containerId = pod.status!.containerStatuses![0].containerID!.replace('containerd://', '');
    const { pid } = (JSON.parse(await node.crictl('inspect', containerId)) as { info: { pid: number } }).info;
    const inPod = async (...args: string[]): Promise<string> =>
      (await run('nsenter', [`--net=/proc/${pid}/ns/net`, '--', 'curl', '-sS', '--cacert', caFile, ...args]))
        .stdout;
    const url = `https://${env.trim()}:443`;
    expect(env.trim()).toBe('10.0.0.1');
    expect(JSON.parse(await inPod(`${url}/version`))).toMatchObject({ gitVersion: 'v1.37.2' });
    const review = await inPod(
      '-H',
      `Authorization: Bearer ${token}`,
      '-H',
      'Content-Type: application/json',
      '--data',
      '{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}',
      `${url}/apis/authentication.k8s.io/v1/selfsubjectreviews`,
    );
    expect(JSON.parse(review)).toMatchObject({
      status: { userInfo: { username: 'system:serviceaccount:default:default' } },
    });
    // The Service's ClusterIP exists only in the node's rules: the host's firewall is untouched.
    const hostRules = (await run('iptables-save', ['-t', 'nat'])).stdout;
    expect(hostRules).not.toMatch(new RegExp(`KUBE-SERVICES|${node.name}`));
    expect(await node.exec('iptables-save', '-t', 'nat')).toMatch(/KUBE-SVC-.*default\/kubernetes:https/);

    // A node-agent pod (on the cluster bridge) reaches the real node's pod (behind the node's bridge).
    await core.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name: 'agent-client' },
        spec: {
          nodeName: 'neonvm-node-1',
          restartPolicy: 'Never',
          containers: [
            {
              name: 'main',
              image: 'busybox',
              command: ['wget', '-qO-', `http://${pod.status!.podIP}:8080/hostname`],
            },
          ],
        },
      },
    });
    await pollUntil(
      async () => {
        const p = await core.readNamespacedPod({ name: 'agent-client', namespace: 'default' });
        return p.status?.phase === 'Succeeded' ? true : undefined;
      },
      { timeoutMs: 60_000, description: 'the node-agent pod to fetch from the real node pod' },
    );
    expect((await kubectl('logs', 'agent-client')).trim()).toBe('incluster');
    await core.deleteCollectionNamespacedPod({ namespace: 'default', gracePeriodSeconds: 0 });
    await pollUntil(
      async () =>
        (await core.listNamespacedPod({ namespace: 'default' })).items.length === 0 ? true : undefined,
      { timeoutMs: 60_000, description: 'pods deleted' },
    );
  });

  it('runs two real nodes side by side: separate cgroup roots and pod ranges, pods reach each other', async () => {
    expect(node2.cgroupRoot).not.toBe(node.cgroupRoot);
    expect(node2.podCidr).not.toBe(node.podCidr);
    const serve = 'echo "hello from $(hostname)" > /tmp/index.html && exec httpd -f -p 8080 -h /tmp';
    await core.createNamespacedPod({
      namespace: 'default',
      body: busyboxPod('server', node.name, ['sh', '-c', serve]),
    });
    const server = await waitRunning('server');
    await core.createNamespacedPod({
      namespace: 'default',
      body: busyboxPod('client', node2.name, [
        'sh',
        '-c',
        `until wget -qO- http://${server.status!.podIP}:8080/; do sleep 0.2; done`,
      ]),
    });
    const client = await pollUntil(
      async () => {
        const pod = await core.readNamespacedPod({ name: 'client', namespace: 'default' });
        return pod.status?.phase === 'Succeeded' ? pod : undefined;
      },
      { timeoutMs: 60_000, description: 'client pod Succeeded' },
    );
    expect(client.status?.podIP?.startsWith(node2.podCidr.replace(/0\/24$/, ''))).toBe(true);
    expect(await kubectl('logs', 'client')).toBe('hello from server\n');
    await core.deleteCollectionNamespacedPod({ namespace: 'default', gracePeriodSeconds: 0 });
    await pollUntil(
      async () =>
        (await core.listNamespacedPod({ namespace: 'default' })).items.length === 0 ? true : undefined,
      { timeoutMs: 60_000, description: 'pods deleted' },
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
    expect((await run('ip', ['netns', 'list'])).stdout).not.toContain(node.netns);
    expect(isClean(leftovers)).toBe(true);
    if (process.env.NEONVM_KEEP_CLUSTER_DIR !== '1') expect(existsSync(dir)).toBe(false);
    await expect(core.readNode({ name: node.name })).rejects.toMatchObject({ code: 404 });
    // The other node is untouched: still Ready, its pods still run.
    const n2 = await core.readNode({ name: node2.name });
    expect(n2.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(isClean(await node2.stop())).toBe(true);
  });
});
