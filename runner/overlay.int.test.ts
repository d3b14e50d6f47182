/**
 * spec.extraNetwork with real QEMU: the runner in a pod network namespace (tap mode) whose Multus
 * interface `net1` is a veth to a peer namespace on the "overlay". The runner bridges net1 with the
 * guest's second NIC; the guest configures eth1 from the kernel `ip=` (the VM status's extraNetIP),
 * so the peer reaches the guest agent at the overlay address. Needs root (namespaces).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { ClusterNetwork } from '../cluster/network';
import { pollUntil } from '../cluster/util';
import { RunnerHarness } from './testing/runner-harness';
import { builtinGuest } from './testing/builtin-guest';

const run = promisify(execFile);
const suite = process.getuid?.() === 0 ? describe : describe.skip;
jest.setTimeout(300_000);

suite('runner overlay network (spec.extraNetwork)', () => {
  const h = new RunnerHarness();
  let net: ClusterNetwork | undefined;
  const peer = `nvovl-${randomBytes(3).toString('hex')}`;

  beforeAll(() => h.init());
  afterAll(async () => {
    await h.stopAll();
    await run('ip', ['netns', 'del', peer]).catch(() => undefined);
    await net?.destroy();
  });

  it('bridges net1 to the guest eth1, which answers on its overlay IP', async () => {
    net = await ClusterNetwork.create();
    await net.addNode(1);
    const pod = await net.createSandbox('overlay-vm', 1);
    // What Multus's bridge CNI gives the pod: a second interface, here with an address the runner
    // must remove (the guest owns the overlay IP).
    const [a, b] = [`nvo${randomBytes(3).toString('hex')}a`, `nvo${randomBytes(3).toString('hex')}b`];
    await run('ip', ['netns', 'add', peer]);
    await run('ip', ['link', 'add', a, 'type', 'veth', 'peer', 'name', b]);
    await run('ip', ['link', 'set', a, 'netns', pod.netns, 'name', 'net1']);
    await run('ip', ['link', 'set', b, 'netns', peer, 'name', 'eth0']);
    await run('ip', ['-n', pod.netns, 'addr', 'add', '10.99.0.50/24', 'dev', 'net1']);
    await run('ip', ['-n', peer, 'addr', 'add', '10.99.0.1/24', 'dev', 'eth0']);
    await run('ip', ['-n', peer, 'link', 'set', 'eth0', 'up']);
    await run('ip', ['-n', peer, 'link', 'set', 'lo', 'up']);

    const r = h.start({
      name: 'vmo-overlay',
      ip: pod.ip,
      execPrefix: pod.execPrefix,
      spec: {
        guest: builtinGuest(),
        extraNetwork: { enable: true },
      },
      status: { extraNetIP: '10.99.0.5', extraNetMask: '255.255.255.0' },
      extraFlags: ['-network-mode=tap'],
    });
    await h.waitReady(r, 240_000);
    expect(r.output()).toContain('overlay network attached');
    expect(r.output()).toContain('neonvm-guest: eth1 10.99.0.5 netmask 255.255.255.0');

    // The pod side: net1 kept no IPv4 address and is a port of br-overlay.
    const net1 = JSON.parse(
      (await run('ip', ['-n', pod.netns, '-j', 'addr', 'show', 'dev', 'net1'])).stdout,
    ) as {
      master?: string;
      addr_info: { family: string }[];
    }[];
    expect(net1[0].master).toBe('br-overlay');
    expect(net1[0].addr_info.filter((x) => x.family === 'inet')).toEqual([]);

    // The overlay peer reaches the guest itself (its agent) at the overlay address.
    const answer = await pollUntil(
      async () =>
        (await run('ip', ['netns', 'exec', peer, 'curl', '-sf', '-m', '5', 'http://10.99.0.5:25183/ready']))
          .stdout,
      { timeoutMs: 30_000, intervalMs: 1000, description: 'the guest agent on the overlay address' },
    );
    expect(answer).toBeDefined();
  });
});
