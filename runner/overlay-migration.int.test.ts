/**
 * spec.extraNetwork across a live migration: two runner pods (tap mode, each with a Multus-like `net1`
 * veth into a shared "overlay" bridge) and a peer on that bridge. The guest answers on its overlay IP
 * from the source, keeps the same eth1 MAC on the target (derived from the VM, not the pod), and after
 * the switch answers from the target — the source's QEMU is paused, then gone. Needs root.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { ClusterNetwork } from '../cluster/network';
import { pollUntil } from '../cluster/util';
import { builtinGuest } from './testing/builtin-guest';
import { RunnerHarness } from './testing/runner-harness';

const run = promisify(execFile);
const suite = process.getuid?.() === 0 ? describe : describe.skip;
jest.setTimeout(300_000);

suite('runner overlay network across a live migration', () => {
  const h = new RunnerHarness();
  let net: ClusterNetwork | undefined;
  const peer = `nvovm-${randomBytes(3).toString('hex')}`;

  beforeAll(() => h.init());
  afterAll(async () => {
    await h.stopAll();
    await run('ip', ['netns', 'del', peer]).catch(() => undefined);
    await net?.destroy();
  });

  /** A veth from the pod (as `net1`) into the overlay bridge in the peer namespace. */
  async function attachToOverlay(podNetns: string): Promise<void> {
    const [a, b] = [`nvm${randomBytes(3).toString('hex')}a`, `nvm${randomBytes(3).toString('hex')}b`];
    await run('ip', ['link', 'add', a, 'type', 'veth', 'peer', 'name', b]);
    await run('ip', ['link', 'set', a, 'netns', podNetns, 'name', 'net1']);
    await run('ip', ['link', 'set', b, 'netns', peer]);
    await run('ip', ['-n', peer, 'link', 'set', b, 'master', 'br0', 'up']);
  }

  const guestAnswers = () =>
    pollUntil(
      async () =>
        (await run('ip', ['netns', 'exec', peer, 'curl', '-sf', '-m', '3', 'http://10.99.0.5:25183/ready']))
          .stdout,
      { timeoutMs: 60_000, intervalMs: 1000, description: 'the guest agent on the overlay address' },
    );

  it('the guest keeps its overlay address and is reached on the target after the switch', async () => {
    net = await ClusterNetwork.create();
    await net.addNode(1);
    const podA = await net.createSandbox('ovm-a', 1);
    const podB = await net.createSandbox('ovm-b', 1);
    await run('ip', ['netns', 'add', peer]);
    await run('ip', ['-n', peer, 'link', 'add', 'br0', 'type', 'bridge']);
    await run('ip', ['-n', peer, 'addr', 'add', '10.99.0.1/24', 'dev', 'br0']);
    await run('ip', ['-n', peer, 'link', 'set', 'br0', 'up']);
    await run('ip', ['-n', peer, 'link', 'set', 'lo', 'up']);
    await attachToOverlay(podA.netns);
    await attachToOverlay(podB.netns);

    const spec = { guest: builtinGuest(), extraNetwork: { enable: true } };
    const status = { extraNetIP: '10.99.0.5', extraNetMask: '255.255.255.0' };
    const a = h.start({
      name: 'vmm-aaaaa',
      ip: podA.ip,
      execPrefix: podA.execPrefix,
      spec,
      status,
      extraFlags: ['-network-mode=tap'],
    });
    await h.waitReady(a, 240_000);
    await guestAnswers();

    const b = h.start({
      name: 'vmm-bbbbb',
      ip: podB.ip,
      execPrefix: podB.execPrefix,
      spec,
      status: { ...status, cpus: (await a.client.status()).cpus.plugged },
      receiveMigration: true,
      extraFlags: ['-network-mode=tap'],
    });
    await pollUntil(
      async () =>
        (await b.client.status().catch(() => undefined))?.qemuStatus === 'inmigrate' ? true : undefined,
      { timeoutMs: 60_000, description: 'the target to wait for the migration' },
    );
    await a.client.startMigration({ targetHost: podB.ip, targetVcpus: 1 });
    const done = await pollUntil(
      async () => {
        const info = await a.client.migration();
        return ['failed', 'completed', 'cancelled'].includes(info.status ?? '') ? info : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 100, description: 'the migration to finish' },
    );
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

    await guestAnswers(); // the source is paused: this is the target answering
    a.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    await guestAnswers();
  });
});
