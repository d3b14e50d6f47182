/**
 * The device plugin on a real kubelet (1.37.2, containerd 2.4, runc): the release image, imported into
 * the real node's containerd, run by the install bundle's DaemonSet (as `kubectl apply` of
 * dist/install/neonvm.yaml would, with the image pointed at the imported tag). It registers with the
 * kubelet, the Node's capacity and allocatable show neonvm/kvm and neonvm/vhost-net, and a pod asking
 * for both is scheduled and gets /dev/kvm from the container runtime (a pod without the request has
 * none); /dev/vhost-net, which this machine lacks, is granted but not mounted. Deleting the DaemonSet
 * takes the resources away (Unhealthy devices: allocatable 0). Needs root; the cached Kubernetes and
 * node toolchain builds (built here otherwise).
 */
import { AppsV1Api, CoreV1Api, type V1Node, type V1Pod } from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { ensureK8sBinaries, ensureNodeToolchain } from '../../cluster/build';
import { startLocalCluster, type LocalCluster } from '../../cluster/local-cluster';
import { isClean, startRealNode, type RealNode, type RealNodeLeftovers } from '../../cluster/real-node';
import { describeRealNodes } from '../../cluster/testing';
import { buildInstallBundle } from '../../constructs';
import { cacheRoot, pollUntil } from '../../host';
import { ensurePauseImage, ensureTestBusyboxImage, TEST_BUSYBOX_IMAGE_REF } from '../../image/node-images';
import { buildImages, readBuildInfo } from '../../release';

const run = promisify(execFile);
const repoDir = resolve(__dirname, '../..');
const suite = describeRealNodes();
jest.setTimeout(300_000);

suite('device plugin on a real kubelet', () => {
  let cluster: LocalCluster;
  let node: RealNode;
  let core: CoreV1Api;
  let work: string;
  let leftovers: RealNodeLeftovers | undefined;
  let pluginImage: string;
  const kubectl = async (...args: string[]): Promise<string> =>
    (await run(cluster.binaries.kubectl, ['--kubeconfig', cluster.kubeconfigPath, ...args])).stdout;

  /** Device counts of the Node (the API server writes 1000 as the quantity `1k`). */
  const resources = async (): Promise<Record<string, Record<string, number | undefined>>> => {
    const n: V1Node = await core.readNode({ name: node.name });
    const count = (q?: string): number | undefined =>
      q === undefined ? undefined : q.endsWith('k') ? Number(q.slice(0, -1)) * 1000 : Number(q);
    const pick = (m?: Record<string, string>) => ({
      kvm: count(m?.['neonvm/kvm']),
      vhostNet: count(m?.['neonvm/vhost-net']),
    });
    return { capacity: pick(n.status?.capacity), allocatable: pick(n.status?.allocatable) };
  };

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'neonvm-dp-e2e-'));
    const [binaries, toolchain, info] = await Promise.all([
      ensureK8sBinaries(),
      ensureNodeToolchain(),
      readBuildInfo(repoDir),
    ]);
    const [[built], sandboxImage, busybox] = await Promise.all([
      buildImages(
        {
          repoDir,
          outDir: work,
          archs: ['amd64'],
          registry: 'registry.test/neonvm',
          cacheDir: cacheRoot(),
          progress: () => undefined,
          info,
        },
        ['device-plugin'],
      ),
      ensurePauseImage(toolchain.pause),
      ensureTestBusyboxImage(),
    ]);
    // The archive's tag, as containerd names an image without a registry.
    pluginImage = built.archiveRef;
    cluster = await startLocalCluster({ binaries, nodes: 0 });
    core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    node = await startRealNode(cluster, {
      sandboxImage,
      images: [busybox, { ref: `docker.io/library/${built.archiveRef}`, archive: built.archive }],
      toolchain,
    });
  }, 90 * 60_000);

  afterAll(async () => {
    leftovers = await node?.stop();
    await cluster?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
    if (leftovers && !isClean(leftovers)) throw new Error(`left behind: ${JSON.stringify(leftovers)}`);
  }, 120_000);

  it('the install bundle DaemonSet registers both resources with the kubelet: 1000 each, allocatable', async () => {
    const bundle = buildInstallBundle({
      image: 'unused-operator',
      runnerImage: 'unused-runner',
      devicePluginImage: pluginImage,
      network: false,
    });
    const objects = bundle.objects.filter((o) => o.kind === 'Namespace' || o.kind === 'DaemonSet');
    expect(objects.map((o) => o.kind)).toEqual(['Namespace', 'DaemonSet']);
    const file = join(work, 'device-plugin.yaml');
    writeFileSync(file, objects.map((o) => stringify(o)).join('---\n'));
    await kubectl('apply', '-f', file);

    const apps = cluster.kubeConfig.makeApiClient(AppsV1Api);
    await pollUntil(
      async () => {
        const ds = await apps.readNamespacedDaemonSet({
          name: 'neonvm-device-plugin',
          namespace: 'neonvm-system',
        });
        return ds.status?.numberReady === 1 ? true : undefined;
      },
      { timeoutMs: 180_000, intervalMs: 500, description: 'the device plugin pod Ready (registered)' },
    );
    const r = await pollUntil(
      async () => {
        const x = await resources();
        return x.allocatable.kvm === 1000 && x.allocatable.vhostNet === 1000 ? x : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, description: 'neonvm/kvm and neonvm/vhost-net allocatable' },
    );
    expect(r).toEqual({
      capacity: { kvm: 1000, vhostNet: 1000 },
      allocatable: { kvm: 1000, vhostNet: 1000 },
    });
    // Its log: registered with the node's kubelet; /dev/vhost-net missing (optional).
    const log = await kubectl('logs', '-n', 'neonvm-system', 'daemonset/neonvm-device-plugin');
    expect(log).toContain('registered with the kubelet');
    expect(log).toMatch(
      /"resource":"neonvm\/vhost-net".*"present":false,"whenMissing":"optional","health":"Healthy"/,
    );
  });

  it('a pod requesting the resources is scheduled and gets /dev/kvm from the runtime; one without has none', async () => {
    const pod = (name: string, limits?: Record<string, string>): V1Pod => ({
      metadata: { name },
      spec: {
        restartPolicy: 'Never',
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'main',
            image: TEST_BUSYBOX_IMAGE_REF,
            imagePullPolicy: 'Never',
            command: ['sleep', '3600'],
            ...(limits ? { resources: { limits } } : {}),
          },
        ],
      },
    });
    await core.createNamespacedPod({
      namespace: 'default',
      body: pod('with-devices', { 'neonvm/kvm': '1', 'neonvm/vhost-net': '1' }),
    });
    await core.createNamespacedPod({ namespace: 'default', body: pod('without') });
    for (const name of ['with-devices', 'without'])
      await pollUntil(
        async () =>
          (await core.readNamespacedPod({ name, namespace: 'default' })).status?.phase === 'Running'
            ? true
            : undefined,
        {
          timeoutMs: 120_000,
          intervalMs: 500,
          description: `pod ${name} Running (scheduled by kube-scheduler)`,
        },
      );
    expect(
      (await core.readNamespacedPod({ name: 'with-devices', namespace: 'default' })).spec?.nodeName,
    ).toBe(node.name);
    // The device node (char 10:232) and the device cgroup let the container open it read-write.
    const kvm = await kubectl(
      'exec',
      'with-devices',
      '--',
      'sh',
      '-c',
      'stat -c "%F %t:%T" /dev/kvm && exec 3<>/dev/kvm && echo opened && test ! -e /dev/vhost-net && echo no-vhost-net',
    );
    expect(kvm.trim().split('\n')).toEqual(['character special file a:e8', 'opened', 'no-vhost-net']);
    await expect(kubectl('exec', 'without', '--', 'test', '-e', '/dev/kvm')).rejects.toThrow(/exit code 1/);
    expect((await resources()).allocatable.kvm).toBe(1000); // allocatable is capacity, not what is free
    await core.deleteCollectionNamespacedPod({ namespace: 'default', gracePeriodSeconds: 0 });
  });

  it('without the plugin (DaemonSet deleted) the kubelet marks the resources unhealthy: allocatable 0', async () => {
    await kubectl('delete', 'daemonset', '-n', 'neonvm-system', 'neonvm-device-plugin', '--wait=true');
    const r = await pollUntil(
      async () => {
        const x = await resources();
        return x.allocatable.kvm === 0 ? x : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 500, description: 'allocatable neonvm/kvm 0 after the plugin left' },
    );
    expect(r.allocatable).toEqual({ kvm: 0, vhostNet: 0 });
  });
});
