/**
 * The VXLAN controller as the install ships it, on two real nodes (kubelet 1.37.2 + containerd + runc,
 * each node in its own routed network namespace): the release runner image, imported into both nodes'
 * containerd, run by the install bundle's DaemonSet, ServiceAccount and ClusterRole (as `kubectl apply`
 * of dist/install/neonvm.yaml would, with the image pointed at the imported tag). Each pod — hostNetwork
 * in its node's namespace, root with only NET_ADMIN/NET_RAW, read-only root, in-cluster config through
 * kube-proxy's `kubernetes` Service — makes neon-br0 + neon-vxlan0 with a tunnel to the other node and
 * the NEON-EXTRANET chain; an endpoint on one node's bridge (what Multus's bridge plugin attaches)
 * reaches one on the other's over the tunnel. Needs root; the cached Kubernetes and node toolchain
 * builds; builds the runner image (~15 min on the loaded 2-core machine).
 */
import { AppsV1Api } from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
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
import { cacheRoot, ManagedProcess, pollUntil } from '../../host';
import { ensurePauseImage, ensureTestBusyboxImage } from '../../image/node-images';
import { buildImages, readBuildInfo } from '../../release';

const run = promisify(execFile);
const repoDir = resolve(__dirname, '../..');
// Root and the node toolchain (built, or building within npm test's budget), else skipped saying why.
const suite = describeRealNodes();
jest.setTimeout(300_000);

suite('VXLAN controller DaemonSet on two real nodes', () => {
  let cluster: LocalCluster;
  let nodes: RealNode[] = [];
  let work: string;
  let runnerImage: string;
  const leftovers: RealNodeLeftovers[] = [];
  const id = randomBytes(2).toString('hex');
  const endpointNs = (i: number) => `vxe${id}e${i}`;
  const kubectl = async (...args: string[]): Promise<string> =>
    (await run(cluster.binaries.kubectl, ['--kubeconfig', cluster.kubeconfigPath, ...args])).stdout;
  const inNode = async (n: RealNode, ...argv: string[]) =>
    (await run('ip', ['netns', 'exec', n.netns, ...argv])).stdout;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'neonvm-vxlan-e2e-'));
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
        ['runner'],
      ),
      ensurePauseImage(toolchain.pause),
      ensureTestBusyboxImage(),
    ]);
    runnerImage = built.archiveRef;
    cluster = await startLocalCluster({ binaries, nodes: 0 });
    const options = {
      sandboxImage,
      images: [busybox, { ref: `docker.io/library/${built.archiveRef}`, archive: built.archive }],
      toolchain,
    };
    nodes = await Promise.all([startRealNode(cluster, options), startRealNode(cluster, options)]);
  }, 90 * 60_000);

  afterAll(async () => {
    for (const i of [0, 1]) await run('ip', ['netns', 'del', endpointNs(i)]).catch(() => undefined);
    // The node namespaces go with the nodes, and with them the links the controller left in place.
    for (const n of nodes) leftovers.push(await n.stop());
    await cluster?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
    const dirty = leftovers.filter((l) => !isClean(l));
    if (dirty.length) throw new Error(`left behind: ${JSON.stringify(dirty)}`);
  }, 180_000);

  it('the install bundle DaemonSet makes the bridge, the VXLAN and a tunnel to the other node on each', async () => {
    const bundle = buildInstallBundle({
      image: 'unused-operator',
      runnerImage,
      devicePlugin: false,
    });
    const objects = bundle.objects.filter(
      (o) => o.kind === 'Namespace' || o.metadata.name === 'neonvm-vxlan-controller',
    );
    expect(objects.map((o) => o.kind)).toEqual([
      'Namespace',
      'ServiceAccount',
      'ClusterRole',
      'ClusterRoleBinding',
      'DaemonSet',
    ]);
    const file = join(work, 'vxlan-controller.yaml');
    writeFileSync(file, objects.map((o) => stringify(o)).join('---\n'));
    await kubectl('apply', '-f', file);

    const apps = cluster.kubeConfig.makeApiClient(AppsV1Api);
    await pollUntil(
      async () => {
        const ds = await apps.readNamespacedDaemonSet({
          name: 'neonvm-vxlan-controller',
          namespace: 'neonvm-system',
        });
        return ds.status?.numberReady === 2 ? true : undefined;
      },
      { timeoutMs: 240_000, intervalMs: 1000, description: 'a controller pod Ready on each node' },
    );
    const [a, b] = nodes;
    for (const [self, other] of [
      [a, b],
      [b, a],
    ]) {
      const flood = await pollUntil(
        async () => {
          const out = await inNode(self, 'bridge', '-j', 'fdb', 'show', 'dev', 'neon-vxlan0').catch(() => '');
          const peers = ((out.trim() ? JSON.parse(out) : []) as Array<{ mac: string; dst?: string }>)
            .filter((e) => e.mac === '00:00:00:00:00:00')
            .map((e) => e.dst);
          return peers.includes(other.address) ? peers : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 500, description: `${self.name} floods to ${other.name}` },
      );
      expect(flood).toEqual([other.address]);
      const [vxlan] = JSON.parse(
        await inNode(self, 'ip', '-d', '-j', 'link', 'show', 'neon-vxlan0'),
      ) as Array<{
        master: string;
        linkinfo: { info_data: { id: number; local: string; port: number } };
      }>;
      expect(vxlan.master).toBe('neon-br0');
      expect(vxlan.linkinfo.info_data).toMatchObject({ id: 100, local: self.address, port: 4789 });
      expect(await inNode(self, 'iptables', '-t', 'nat', '-S')).toContain(
        '-A POSTROUTING -d 10.100.0.0/16 -j NEON-EXTRANET',
      );
    }
    // Within its memory limit (no OOM restarts); the working set as the kubelet's runtime reports it.
    const pods = JSON.parse(
      await kubectl(
        'get',
        'pods',
        '-n',
        'neonvm-system',
        '-l',
        'app.kubernetes.io/name=neonvm-vxlan-controller',
        '-o',
        'json',
      ),
    ) as { items: Array<{ status: { containerStatuses?: Array<{ restartCount: number }> } }> };
    expect(pods.items.flatMap((p) => p.status.containerStatuses ?? []).map((c) => c.restartCount)).toEqual([
      0, 0,
    ]);
    for (const n of nodes) {
      const stats = JSON.parse(await n.crictl('stats', '-o', 'json')) as {
        stats: Array<{
          attributes: { metadata: { name: string } };
          memory?: { workingSetBytes?: { value: string } };
        }>;
      };
      const mine = stats.stats.find((x) => x.attributes.metadata.name === 'vxlan-controller');
      console.log(
        `${n.name}: vxlan-controller working set ${Math.round(Number(mine?.memory?.workingSetBytes?.value) / 2 ** 20)} MiB`,
      );
    }
    // Its log: started with the other node as its peer (in-cluster config through the Service).
    const log = await kubectl('logs', '-n', 'neonvm-system', 'daemonset/neonvm-vxlan-controller');
    expect(log).toContain('"msg":"started"');
  });

  it('carries traffic between endpoints on the two nodes’ bridges over the tunnel', async () => {
    // What Multus's bridge plugin does for a pod on the overlay: a veth whose node end is a port of
    // neon-br0, the other end (net1) in the pod with an overlay address.
    for (const [i, n] of nodes.entries()) {
      await run('ip', ['netns', 'add', endpointNs(i)]);
      await inNode(
        n,
        'ip',
        'link',
        'add',
        `vxe${i}`,
        'type',
        'veth',
        'peer',
        'name',
        'net1',
        'netns',
        endpointNs(i),
      );
      await inNode(n, 'ip', 'link', 'set', `vxe${i}`, 'master', 'neon-br0', 'up');
      await run('ip', ['-n', endpointNs(i), 'addr', 'add', `10.100.${i + 1}.30/16`, 'dev', 'net1']);
      await run('ip', ['-n', endpointNs(i), 'link', 'set', 'net1', 'up']);
    }
    const server = ManagedProcess.start({
      name: 'overlay-server',
      command: 'ip',
      args: ['netns', 'exec', endpointNs(1), 'python3', '-m', 'http.server', '8099', '--bind', '10.100.2.30'],
      logFile: join(work, 'server.log'),
      cwd: work,
    });
    try {
      const code = await pollUntil(
        async () =>
          (
            await run('ip', [
              ...['netns', 'exec', endpointNs(0), 'curl', '-s', '-m', '3', '-o', '/dev/null'],
              ...['-w', '%{http_code}', 'http://10.100.2.30:8099/'],
            ])
          ).stdout,
        { timeoutMs: 60_000, intervalMs: 1000, description: 'node 1 endpoint → node 2 endpoint' },
      );
      expect(code).toBe('200');
    } finally {
      await server.stop();
    }
    const fdb = JSON.parse(
      await inNode(nodes[0], 'bridge', '-j', 'fdb', 'show', 'dev', 'neon-vxlan0'),
    ) as Array<{
      mac: string;
      dst?: string;
    }>;
    expect(fdb.some((e) => e.mac !== '00:00:00:00:00:00' && e.dst === nodes[1].address)).toBe(true);
  });
});
