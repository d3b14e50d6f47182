/**
 * Tap networking as a container runtime leaves the pod: /dev has no net/tun (runc allows the
 * device but does not create it). Real runners in pod network namespaces whose /dev/net is an empty
 * tmpfs: with CAP_MKNOD the runner makes /dev/net/tun (upstream's mknod c 10 200) and runs tap mode
 * with multiqueue virtio-net (2 queue pairs for 2 possible vCPUs; no /dev/vhost-net on this machine,
 * so QEMU's user-space backend), kept across a live migration; without CAP_MKNOD it falls back to
 * user-mode networking and its /status says what the VM runs without (extraNetwork, guest ports) —
 * what the operator turns into the Degraded condition. Needs root (namespaces, mounts).
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ClusterNetwork, type PodSandbox } from '../cluster/network';
import { builtinGuest } from '../crds/testing';
import { describeIf } from '../host/testing';
import { RunnerHarness, type TestRunner } from './testing/runner-harness';

const run = promisify(execFile);
const suite = describeIf(process.getuid?.() === 0, 'needs root (network and mount namespaces)');
jest.setTimeout(600_000);

/** The pod's namespace, then a mount namespace whose /dev/net is empty; optionally without CAP_MKNOD. */
function withoutTun(pod: PodSandbox, o: { mknod: boolean }): string[] {
  return [
    ...pod.execPrefix,
    'unshare',
    '--mount',
    '--propagation',
    'private',
    'sh',
    '-c',
    'mount -t tmpfs -o mode=755 tmpfs /dev/net && exec "$@"',
    'sh',
    ...(o.mknod ? [] : ['setpriv', '--bounding-set=-mknod', '--']),
  ];
}

/** A command in the guest over SSH from inside the pod (tap mode: the guest is 169.254.254.254 there). */
function sshInPod(pod: PodSandbox, r: TestRunner, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      pod.execPrefix[0],
      [
        ...pod.execPrefix.slice(1),
        'ssh',
        '-F',
        join(r.root, 'r', 'ssh_config'),
        '-o',
        'ConnectTimeout=10',
        '-o',
        'BatchMode=yes',
        'guest-vm',
        command,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`ssh ${command}: exit ${code}: ${err}`));
    });
  });
}

suite('runner tap networking in a pod without /dev/net/tun', () => {
  const h = new RunnerHarness();
  let net: ClusterNetwork | undefined;

  beforeAll(async () => {
    await h.init();
    net = await ClusterNetwork.create();
    await net.addNode(1);
  });
  afterAll(async () => {
    await h.stopAll();
    await net?.destroy();
  });

  it('the namespace used below really hides the host /dev/net/tun', async () => {
    const pod = await net!.createSandbox('tun-probe', 1);
    const [cmd, ...args] = withoutTun(pod, { mknod: true });
    await expect(run(cmd, [...args, 'test', '-e', '/dev/net/tun'])).rejects.toMatchObject({ code: 1 });
  });

  it('creates /dev/net/tun, runs tap networking with 2 queue pairs, and keeps them across a live migration', async () => {
    const key = await h.keyPair();
    const podFiles = { 'vm/ssh/authorized_keys': key.publicKey, 'mnt/ssh/id_ed25519': key.privateKey };
    const spec = { guest: builtinGuest({ min: 1, max: 2, use: 1 }) };
    const podA = await net!.createSandbox('tun-a', 1);
    const a = h.start({
      name: 'vmt-aaaaa',
      ip: podA.ip,
      execPrefix: withoutTun(podA, { mknod: true }),
      spec,
      podFiles,
    });
    await h.waitReady(a, 300_000);
    expect(a.output()).toContain('created /dev/net/tun (c 10 200)');
    const st = await a.client.status();
    expect(st).toMatchObject({ networkMode: 'tap', netBacking: { queues: 2, vhost: false }, degraded: [] });
    // The pod side: a multi-queue tap with both queues attached by QEMU (the guest enables one per
    // online CPU, so with one CPU online the second is attached but disabled).
    const tapQueues = async (pod: PodSandbox) => {
      const d = (await run('ip', ['-n', pod.netns, '-d', 'link', 'show', 'dev', 'tap-def'])).stdout;
      const m = /multi_queue numqueues (\d+) numdisabled (\d+)/.exec(d);
      return m ? Number(m[1]) + Number(m[2]) : undefined;
    };
    expect(await tapQueues(podA)).toBe(2);
    // The guest side: eth0's virtio device negotiated VIRTIO_NET_F_MQ (feature bit 22).
    const guestMq = async (pod: PodSandbox, r: TestRunner) =>
      (await sshInPod(pod, r, 'cut -c23 /sys/class/net/eth0/device/features')).trim();
    expect(await guestMq(podA, a)).toBe('1');

    const podB = await net!.createSandbox('tun-b', 1);
    const b = h.start({
      name: 'vmt-bbbbb',
      ip: podB.ip,
      execPrefix: withoutTun(podB, { mknod: true }),
      spec,
      podFiles,
      status: { cpus: st.cpus.plugged },
      receiveMigration: true,
    });
    await h.waitIncoming(b);
    await a.client.startMigration({ targetHost: podB.ip, targetVcpus: st.cpus.plugged });
    expect((await h.migrationOutcome(a)).status).toBe('completed');
    await h.waitReady(b, 120_000);
    expect(await b.client.status()).toMatchObject({ networkMode: 'tap', netBacking: { queues: 2 } });
    a.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    expect(await tapQueues(podB)).toBe(2);
    expect(await guestMq(podB, b)).toBe('1');
  });

  it('without CAP_MKNOD: user-mode networking, and /status says what the VM runs without and why', async () => {
    const pod = await net!.createSandbox('tun-none', 1);
    const r = h.start({
      name: 'vmt-nomknod',
      ip: pod.ip,
      execPrefix: withoutTun(pod, { mknod: false }),
      spec: {
        guest: { ...builtinGuest(), ports: [{ name: 'http', port: 8080 }] },
        extraNetwork: { enable: true },
      },
    });
    await h.waitReady(r, 300_000);
    const why = 'no /dev/net/tun, and no CAP_MKNOD to create it';
    const st = await r.client.status();
    expect(st.networkMode).toBe('user');
    expect(st.netBacking).toBeUndefined();
    expect(st.degraded).toEqual([
      `spec.guest.ports 8080/tcp forwarded by QEMU user-mode networking (the guest sees every client as 169.254.254.253): tap networking unavailable (${why})`,
      `spec.extraNetwork not attached: it needs tap networking (${why})`,
    ]);
    expect(r.output()).toContain(`warning: spec.extraNetwork not attached: it needs tap networking (${why})`);
    // Nothing was made in the pod's /dev.
    expect(existsSync(`/proc/${r.child.pid}/root/dev/net/tun`)).toBe(false);
  });
});
