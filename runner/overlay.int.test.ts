/**
 * spec.extraNetwork with real QEMU: runners in pod network namespaces (tap mode) whose Multus
 * interface `net1` is a veth into an "overlay" bridge in a peer namespace. The runner bridges net1 with
 * the guest's second NIC; the guest configures eth1 from the kernel `ip=` (the VM status's extraNetIP),
 * so the peer reaches the guest (its sshd; never its agent) at the overlay address — also after a live migration, where the
 * target keeps the guest's eth1 MAC (derived from the VM, not the pod). Needs root (namespaces).
 */
import { pollUntil } from '../host';
import { describeIf } from '../host/testing';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { ClusterNetwork } from '../cluster/network';
import { builtinGuest } from '../crds/testing';
import { RunnerHarness } from './testing/runner-harness';

const run = promisify(execFile);
const suite = describeIf(process.getuid?.() === 0, 'needs root (network namespaces, tap devices)');
jest.setTimeout(300_000);

suite('runner overlay network (spec.extraNetwork)', () => {
  const h = new RunnerHarness();
  let net: ClusterNetwork | undefined;
  const peer = `nvovl-${randomBytes(3).toString('hex')}`;

  beforeAll(async () => {
    await h.init();
    net = await ClusterNetwork.create();
    await net.addNode(1);
    // The overlay: a bridge in the peer namespace, which also owns 10.99.0.1.
    await run('ip', ['netns', 'add', peer]);
    await run('ip', ['-n', peer, 'link', 'add', 'br0', 'type', 'bridge']);
    await run('ip', ['-n', peer, 'addr', 'add', '10.99.0.1/24', 'dev', 'br0']);
    await run('ip', ['-n', peer, 'link', 'set', 'br0', 'up']);
    await run('ip', ['-n', peer, 'link', 'set', 'lo', 'up']);
  });
  afterAll(async () => {
    await h.stopAll();
    await run('ip', ['netns', 'del', peer]).catch(() => undefined);
    await net?.destroy();
  });

  /** What Multus's bridge CNI gives a pod: a second interface `net1` on the overlay. */
  async function podOnOverlay(name: string) {
    const pod = await net!.createSandbox(name, 1);
    const [a, b] = [`nvo${randomBytes(3).toString('hex')}a`, `nvo${randomBytes(3).toString('hex')}b`];
    await run('ip', ['link', 'add', a, 'type', 'veth', 'peer', 'name', b]);
    await run('ip', ['link', 'set', a, 'netns', pod.netns, 'name', 'net1']);
    await run('ip', ['link', 'set', b, 'netns', peer]);
    await run('ip', ['-n', peer, 'link', 'set', b, 'master', 'br0', 'up']);
    return pod;
  }

  /**
   * The overlay peer reaches the guest itself (its sshd's banner) at the overlay address. Not the
   * guest agent: it listens on the runner-facing link only (agentRefused).
   */
  const guestAnswers = (ip: string, timeoutMs = 60_000) =>
    pollUntil(
      async () => {
        const banner = await run('ip', [
          'netns',
          'exec',
          peer,
          'timeout',
          '5',
          'bash',
          '-c',
          `exec 3<>/dev/tcp/${ip}/22 && head -c 8 <&3`,
        ]).catch(() => ({ stdout: '' }));
        return banner.stdout.startsWith('SSH-2.0') ? banner.stdout : undefined;
      },
      { timeoutMs, intervalMs: 1000, description: `the guest's sshd on ${ip}` },
    );
  /** curl's exit code for the guest agent at the overlay address (7: connection refused). */
  const agentFromOverlay = (ip: string) =>
    run('ip', ['netns', 'exec', peer, 'curl', '-s', '-m', '3', `http://${ip}:25183/ready`]).then(
      () => 0,
      (e: { code?: number }) => e.code ?? -1,
    );

  const spec = { guest: builtinGuest(), extraNetwork: { enable: true } };
  const overlayStatus = (ip: string) => ({ extraNetIP: ip, extraNetMask: '255.255.255.0' });

  it('bridges net1 to the guest eth1, which answers on its overlay IP', async () => {
    const pod = await podOnOverlay('overlay-vm');
    // With an address the runner must remove (the guest owns the overlay IP).
    await run('ip', ['-n', pod.netns, 'addr', 'add', '10.99.0.50/24', 'dev', 'net1']);

    const r = h.start({
      name: 'vmo-overlay',
      ip: pod.ip,
      execPrefix: pod.execPrefix,
      spec,
      status: overlayStatus('10.99.0.5'),
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

    expect(await guestAnswers('10.99.0.5', 30_000)).toBeDefined();
    // Peers on the overlay cannot reach the guest agent: it is bound to the runner-facing link.
    expect(await agentFromOverlay('10.99.0.5')).toBe(7);
  });

  it('keeps the overlay address across a live migration: the target answers after the switch', async () => {
    const podA = await podOnOverlay('ovm-a');
    const podB = await podOnOverlay('ovm-b');
    const status = overlayStatus('10.99.0.6');
    const a = h.start({
      name: 'vmm-aaaaa',
      ip: podA.ip,
      execPrefix: podA.execPrefix,
      spec,
      status,
      extraFlags: ['-network-mode=tap'],
    });
    await h.waitReady(a, 240_000);
    await guestAnswers('10.99.0.6');

    const b = h.start({
      name: 'vmm-bbbbb',
      ip: podB.ip,
      execPrefix: podB.execPrefix,
      spec,
      status: { ...status, cpus: (await a.client.status()).cpus.plugged },
      receiveMigration: true,
      extraFlags: ['-network-mode=tap'],
    });
    await h.waitIncoming(b);
    await a.client.startMigration({ targetHost: podB.ip, targetVcpus: 1 });
    const done = await h.migrationOutcome(a);
    expect(done.status).toBe('completed');
    await h.waitReady(b, 60_000);
    expect((await a.client.status()).qemuStatus).toBe('postmigrate');
    // Same VM, same NIC: the overlay MAC the target's QEMU uses is the source's.
    const mac = (out: string) =>
      /"mac":"([0-9a-f:]+)"/.exec(
        out.split('\n').find((l) => l.includes('overlay network attached')) ?? '',
      )?.[1];
    expect(mac(b.output())).toBeDefined();
    expect(mac(b.output())).toBe(mac(a.output()));

    await guestAnswers('10.99.0.6'); // the source is paused: this is the target answering
    a.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    await guestAnswers('10.99.0.6');
  });
});
