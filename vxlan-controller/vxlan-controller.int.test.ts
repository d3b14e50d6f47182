/**
 * The VXLAN controller as it runs on a node: its own process (vxlan-controller/main.ts) inside a
 * network namespace standing for the node (as a hostNetwork pod), watching real Node objects on a
 * real API server. Three "nodes" on the local cluster's bridge: the controller makes bridge + VXLAN +
 * flood list + nat chain, a "pod" on one node's bridge reaches a "pod" on another's over the overlay,
 * Nodes added and deleted change every flood list within seconds, a deleted link comes back, a
 * restart changes nothing, `-delete` removes it all. Needs root (network namespaces).
 */
import { CoreV1Api } from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ManagedProcess, pollUntil, packagePath } from '../host';
import { describeIf } from '../host/testing';
import { useLocalCluster } from '../cluster/testing';
import { builtinGuest } from '../crds/testing';
import { MERGE_PATCH } from '../kube';
import { RunnerHarness } from '../runner/testing/runner-harness';

const run = promisify(execFile);
const sh = async (...argv: string[]) => (await run(argv[0], argv.slice(1))).stdout;
const suite = describeIf(process.getuid?.() === 0, 'needs root (network namespaces)');
jest.setTimeout(600_000);

const MAIN = join(__dirname, 'main.ts');
const TSX = packagePath(__dirname, 'node_modules/tsx/dist/loader.mjs');

suite('VXLAN controller on three node namespaces', () => {
  const cluster = useLocalCluster({ nodes: 0 });
  const id = randomBytes(2).toString('hex');
  const nodeNs = (i: number) => `vxt${id}n${i}`;
  const podNs = (i: number) => `vxt${id}p${i}`;
  const nodeName = (i: number) => `vxt-${id}-${i}`;
  let subnet = '';
  const nodeIp = (i: number) => `${subnet}.${200 + i}.1`;
  const controllers = new Map<number, ManagedProcess>();
  let logDir = '';
  let starts = 0;
  let core: CoreV1Api;
  const runners = new RunnerHarness();

  async function addNodeObject(i: number): Promise<void> {
    await core.createNode({
      body: {
        metadata: { name: nodeName(i) },
        status: { addresses: [{ type: 'InternalIP', address: nodeIp(i) }] },
      },
    });
    // Node status is a subresource: the address must be written there.
    await core.patchNodeStatus(
      { name: nodeName(i), body: { status: { addresses: [{ type: 'InternalIP', address: nodeIp(i) }] } } },
      MERGE_PATCH,
    );
  }

  function startController(i: number, ...extra: string[]): ManagedProcess {
    const p = ManagedProcess.start({
      name: `vxlan-controller-${i}`,
      command: 'ip',
      args: [
        ...['netns', 'exec', nodeNs(i), process.execPath, '--import', TSX, MAIN],
        `--kubeconfig=${cluster().kubeconfigPath}`,
        `--node-ip=${nodeIp(i)}`,
        `--node-name=${nodeName(i)}`,
        '--resync-interval=1s',
        ...extra,
      ],
      logFile: join(logDir, `controller-${i}-${++starts}.log`),
    });
    controllers.set(i, p);
    return p;
  }

  const inNode = (i: number, ...argv: string[]) => sh('ip', 'netns', 'exec', nodeNs(i), ...argv);
  const flood = async (i: number) =>
    (
      JSON.parse((await inNode(i, 'bridge', '-j', 'fdb', 'show', 'dev', 'neon-vxlan0')) || '[]') as Array<{
        mac: string;
        dst?: string;
      }>
    )
      .filter((e) => e.mac === '00:00:00:00:00:00')
      .map((e) => e.dst)
      .sort();
  // Generous: a controller's start (node + tsx + client-node) took 21 s at load average 50 on the
  // shared 2-core machine; once started, changes land within a second (the times the test logs).
  const waitFlood = (i: number, peers: number[], description: string, timeoutMs = 30_000) =>
    pollUntil(
      async () => {
        const want = peers.map(nodeIp).sort();
        return JSON.stringify(await flood(i)) === JSON.stringify(want) ? true : undefined;
      },
      { timeoutMs, intervalMs: 200, description },
    ).catch((err: unknown) => {
      for (const [n, c] of controllers) console.error(`controller ${n} log:\n${c.logTail(40)}`);
      throw err;
    });

  beforeAll(async () => {
    logDir = mkdtempSync(join(tmpdir(), 'neonvm-vxlan-test-'));
    core = cluster().kubeConfig.makeApiClient(CoreV1Api);
    const bridge = cluster().network.addressing.bridge;
    subnet = cluster().network.addressing.gateway.split('.').slice(0, 2).join('.');
    for (const i of [1, 2, 3]) {
      // A node: its own namespace with an address on the cluster bridge (as the cluster's real nodes).
      await sh('ip', 'netns', 'add', nodeNs(i));
      await sh(
        'ip',
        'link',
        'add',
        `vxt${id}h${i}`,
        'type',
        'veth',
        'peer',
        'name',
        'eth0',
        'netns',
        nodeNs(i),
      );
      await sh('ip', 'link', 'set', `vxt${id}h${i}`, 'master', bridge, 'up');
      await inNode(i, 'ip', 'addr', 'add', `${nodeIp(i)}/16`, 'dev', 'eth0');
      await inNode(i, 'ip', 'link', 'set', 'eth0', 'up');
      await inNode(i, 'ip', 'link', 'set', 'lo', 'up');
      await addNodeObject(i);
    }
  });

  afterAll(async () => {
    await runners.stopAll();
    await cluster()
      .network.deleteSandbox('vxt-runner')
      .catch(() => undefined);
    await Promise.all([...controllers.values()].map((c) => c.stop()));
    for (const i of [1, 2, 3, 4]) {
      await run('ip', ['netns', 'del', podNs(i)]).catch(() => undefined);
      await run('ip', ['netns', 'del', nodeNs(i)]).catch(() => undefined);
      await run('ip', ['link', 'del', `vxt${id}h${i}`]).catch(() => undefined);
      await core?.deleteNode({ name: nodeName(i) }).catch(() => undefined);
    }
    if (logDir) rmSync(logDir, { recursive: true, force: true });
  });

  it('makes the bridge, the VXLAN and a tunnel to each other node on every node', async () => {
    for (const i of [1, 2]) startController(i);
    await waitFlood(1, [2, 3], 'node 1 floods to nodes 2 and 3', 180_000);
    await waitFlood(2, [1, 3], 'node 2 floods to nodes 1 and 3', 180_000);
    const [vxlan] = JSON.parse(await inNode(1, 'ip', '-d', '-j', 'link', 'show', 'neon-vxlan0')) as Array<{
      master: string;
      flags: string[];
      linkinfo: {
        info_kind: string;
        info_data: { id: number; local: string; port: number; learning: boolean };
      };
    }>;
    expect(vxlan.master).toBe('neon-br0');
    expect(vxlan.flags).toContain('UP');
    expect(vxlan.linkinfo).toMatchObject({
      info_kind: 'vxlan',
      info_data: { id: 100, local: nodeIp(1), port: 4789, learning: true },
    });
    // Resident memory of a controller (run through tsx here; the image runs compiled JavaScript).
    const rss = readFileSync(`/proc/${controllers.get(1)?.pid}/status`, 'utf8').match(
      /VmRSS:\s+(\d+) kB/,
    )?.[1];
    console.log(`controller 1 resident: ${Math.round(Number(rss) / 1024)} MiB`);
    const nat = await inNode(1, 'iptables', '-t', 'nat', '-S');
    expect(nat).toContain('-A POSTROUTING -d 10.100.0.0/16 -j NEON-EXTRANET');
    expect(nat).toContain('-A NEON-EXTRANET -s 10.100.0.0/16 -j ACCEPT');
  });

  it('carries overlay traffic between pods on different nodes', async () => {
    // What the bridge CNI plugin gives a pod attached to neon-br0: a veth with net1 in the pod.
    for (const i of [1, 2]) {
      await sh('ip', 'netns', 'add', podNs(i));
      await inNode(
        i,
        'ip',
        'link',
        'add',
        `vxp${i}`,
        'type',
        'veth',
        'peer',
        'name',
        'net1',
        'netns',
        podNs(i),
      );
      await inNode(i, 'ip', 'link', 'set', `vxp${i}`, 'master', 'neon-br0', 'up');
      await sh('ip', '-n', podNs(i), 'addr', 'add', `10.100.${i}.10/16`, 'dev', 'net1');
      await sh('ip', '-n', podNs(i), 'link', 'set', 'net1', 'up');
    }
    const server = ManagedProcess.start({
      name: 'overlay-server',
      command: 'ip',
      args: ['netns', 'exec', podNs(2), 'python3', '-m', 'http.server', '8099', '--bind', '10.100.2.10'],
      logFile: join(logDir, 'server.log'),
      cwd: logDir,
    });
    try {
      const code = await pollUntil(
        async () =>
          (
            await run('ip', [
              ...['netns', 'exec', podNs(1), 'curl', '-s', '-m', '3', '-o', '/dev/null'],
              ...['-w', '%{http_code}', 'http://10.100.2.10:8099/'],
            ])
          ).stdout,
        { timeoutMs: 30_000, intervalMs: 500, description: 'pod 1 → pod 2 over the overlay' },
      );
      expect(code).toBe('200');
      // It went through the tunnel: node 1's VXLAN learned pod 2's MAC behind node 2.
      const learned = JSON.parse(
        await inNode(1, 'bridge', '-j', 'fdb', 'show', 'dev', 'neon-vxlan0'),
      ) as Array<{
        mac: string;
        dst?: string;
      }>;
      expect(learned.some((e) => e.mac !== '00:00:00:00:00:00' && e.dst === nodeIp(2))).toBe(true);
    } finally {
      await server.stop();
    }
  });

  it('carries TCP between a pod on node 2 and a VM (real runner + QEMU) on node 1', async () => {
    // The runner pod: its default network on the cluster bridge, and what Multus's bridge plugin
    // attaches from the overlay NetworkAttachmentDefinition (net1, a port of node 1's neon-br0).
    await runners.init();
    const pod = await cluster().network.createSandbox('vxt-runner', 100);
    await inNode(1, 'ip', 'link', 'add', 'vxr1', 'type', 'veth', 'peer', 'name', 'net1', 'netns', pod.netns);
    await inNode(1, 'ip', 'link', 'set', 'vxr1', 'master', 'neon-br0', 'up');
    const vmIp = '10.100.128.20';
    const r = runners.start({
      name: 'vxt-vm',
      ip: pod.ip,
      execPrefix: pod.execPrefix,
      spec: { guest: builtinGuest(), extraNetwork: { enable: true } },
      status: { extraNetIP: vmIp, extraNetMask: '255.255.0.0' },
      extraFlags: ['-network-mode=tap'],
    });
    const bootMs = await runners.waitReady(r, 420_000);
    expect(r.output()).toContain(`neonvm-guest: eth1 ${vmIp} netmask 255.255.0.0`);
    // Pod 2 (node 2) → the guest's sshd on its overlay address (not its agent: that listens on the
    // runner-facing link only): ARP floods over the tunnel, the guest answers through br-overlay →
    // net1 → neon-br0 → neon-vxlan0 → node 2.
    const t0 = Date.now();
    const banner = await pollUntil(
      async () => {
        const out = await run('ip', [
          ...['netns', 'exec', podNs(2), 'timeout', '5', 'bash', '-c'],
          `exec 3<>/dev/tcp/${vmIp}/22 && head -c 8 <&3`,
        ]).catch(() => ({ stdout: '' }));
        return out.stdout.startsWith('SSH-2.0') ? out.stdout : undefined;
      },
      {
        timeoutMs: 60_000,
        intervalMs: 1000,
        description: "pod 2 → the VM's sshd on node 1 over the overlay",
      },
    );
    expect(banner).toBe('SSH-2.0-');
    console.log(`VM boot ${bootMs} ms; first overlay answer ${Date.now() - t0} ms after ready`);
    // Node 2 learned the guest's eth1 MAC behind node 1's tunnel end: the packets crossed the VXLAN.
    const mac = /"mac":"([0-9a-f:]+)"/.exec(
      r
        .output()
        .split('\n')
        .find((l) => l.includes('overlay network attached')) ?? '',
    )?.[1];
    expect(mac).toBeDefined();
    const fdb2 = JSON.parse(await inNode(2, 'bridge', '-j', 'fdb', 'show', 'dev', 'neon-vxlan0')) as Array<{
      mac: string;
      dst?: string;
    }>;
    expect(fdb2).toContainEqual(expect.objectContaining({ mac, dst: nodeIp(1) }));
    await runners.stopAll();
  });

  it('follows Nodes joining and leaving', async () => {
    await addNodeObject(4);
    await waitFlood(1, [2, 3, 4], 'node 4 joins node 1 flood list');
    await waitFlood(2, [1, 3, 4], 'node 4 joins node 2 flood list');
    await core.deleteNode({ name: nodeName(3) });
    await waitFlood(1, [2, 4], 'node 3 leaves node 1 flood list');
    await waitFlood(2, [1, 4], 'node 3 leaves node 2 flood list');
  });

  it('repairs a deleted link, survives a restart unchanged, and -delete removes everything', async () => {
    await inNode(1, 'ip', 'link', 'del', 'neon-vxlan0');
    await waitFlood(1, [2, 4], 'the VXLAN made again with its flood list');
    const ifindex = async () =>
      (
        JSON.parse(await inNode(1, 'ip', '-j', 'link', 'show', 'neon-vxlan0')) as Array<{ ifindex: number }>
      )[0].ifindex;
    const before = await ifindex();
    await controllers.get(1)?.stop();
    expect(controllers.get(1)?.exitStatus?.code).toBe(0);
    const again = startController(1);
    await pollUntil(async () => (again.logTail(50).includes('"msg":"started"') ? true : undefined), {
      timeoutMs: 180_000,
      description: 'restarted controller',
    });
    expect(await ifindex()).toBe(before);
    const reconciledLines = again
      .logTail(50)
      .split('\n')
      .filter((l) => l.includes('overlay reconciled'));
    expect(reconciledLines).toEqual([]);
    await again.stop();

    const teardown = startController(1, '-delete');
    expect((await teardown.exited).code).toBe(0);
    const links = await inNode(1, 'ip', '-j', 'link', 'show');
    expect(links).not.toContain('neon-br0');
    expect(links).not.toContain('neon-vxlan0');
    expect(await inNode(1, 'iptables', '-t', 'nat', '-S')).not.toContain('NEON-EXTRANET');
  });
});
