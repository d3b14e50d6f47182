/**
 * Issue 17, "migrations that never lose the live VM", below Kubernetes: the source runner is SIGKILLed
 * right after its QEMU reported the outgoing migration `completed` (seen through its `GET /qemu`, polled
 * every 25 ms as the fault suite does). The source sets `return-path`, so `completed` means the target
 * has loaded the whole state: the target runner must keep running the guest by itself — custody
 * `running`, ready, the guest answering with its disk and memory — and must not exit.
 *
 * Real runner processes (the production entry point, `runner/main.ts`) and real QEMU, migration over TLS
 * with the operator's per-VM certificates as in a pod. The source's QEMU dies with its runner
 * (`setpriv --pdeathsig KILL`), as a pod's do. Set-ups: runners on loopback addresses (user-mode
 * networking); as root, runners in pod network namespaces with tap networking whose source is itself a
 * former migration target with a vCPU plugged beyond `cpus.use`, as in the fault suite; and, opt-in,
 * both ends held to a few percent of a CPU (the load under which the fault suite failed).
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ClusterNetwork, type PodSandbox } from '../cluster/network';
import { builtinGuest } from '../crds/testing';
import { pollUntil } from '../host';
import { QemuCpuCgroup } from './pod-resources/cpu-cgroup';
import { describeIf } from '../host/testing';
import { RunnerHarness, sshGuest, type TestRunner } from './testing/runner-harness';
import { createMigrationCa, testMigrationTls, type TestMigrationTls } from './testing/migration-tls';

const run = promisify(execFile);
jest.setTimeout(900_000);

/** How long the target must keep running the guest after the kill, unattended. */
const SURVIVE_MS = 20_000;
/** The fault suite's VM shape: 1 of 2 CPUs, one memory slot. */
const spec = { guest: builtinGuest({ min: 1, max: 2, use: 1 }) };

const h = new RunnerHarness();
let tls: TestMigrationTls;
let key: { privateKey: string; publicKey: string };

beforeAll(async () => {
  await h.init();
  key = await h.keyPair();
  tls = await testMigrationTls(await createMigrationCa(), '6f1d2c3b-aaaa-4bbb-8ccc-0000000000c1');
});
afterAll(() => h.stopAll());

const podFiles = () => ({
  'vm/ssh/authorized_keys': key.publicKey,
  'mnt/ssh/id_ed25519': key.privateKey,
  ...tls.files,
});

interface Where {
  readonly ip: string;
  /** Pod network namespace (tap mode), or none (user mode on a loopback address). */
  readonly pod?: PodSandbox;
  /**
   * A CPU cgroup the target's runner and QEMU are moved into once QEMU listens for the stream: a node
   * under heavy load, for one pod (a starved runner would take minutes just to start).
   */
  readonly cgroup?: QemuCpuCgroup;
}

function startRunner(name: string, at: Where, target?: { cpus: number | string }): TestRunner {
  return h.start({
    name,
    ip: at.ip,
    spec,
    podFiles: podFiles(),
    extraFlags: [...tls.flags, ...(at.pod ? ['-network-mode=tap'] : [])],
    ...(at.pod ? { execPrefix: at.pod.execPrefix } : {}),
    ...(target ? { status: { cpus: String(target.cpus) }, receiveMigration: true } : {}),
  });
}

/** Runs a command in the guest over ssh (from the pod's namespace in tap mode). */
async function inGuest(r: TestRunner, at: Where, command: string): Promise<string> {
  if (!at.pod) return (await sshGuest(r, command)).stdout;
  const ssh = ['-F', join(r.root, 'r', 'ssh_config'), '-o', 'ConnectTimeout=10', '-o', 'BatchMode=yes'];
  const { stdout } = await run('ip', ['netns', 'exec', at.pod.netns, 'ssh', ...ssh, 'guest-vm', command], {
    timeout: 30_000,
  });
  return stdout;
}

/** Moves a runner and its QEMU into `cgroup` (their later children follow). */
async function starve(r: TestRunner, cgroup: QemuCpuCgroup): Promise<void> {
  // runner.json is written by the stage after the API's: wait for it.
  const { pid, qemuPid } = await pollUntil(
    async () => (existsSync(join(r.root, 'r/runner.json')) ? r.info() : undefined),
    { timeoutMs: 60_000, description: `${r.name}'s runner.json` },
  );
  // Outside a PID namespace the runner is the harness's child itself (runner.json has its PID too).
  for (const p of [r.child.pid ?? pid, qemuPid]) await cgroup.addProcess(p);
}

function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

/**
 * Migrates `source` to a new target at `to`, SIGKILLs the source runner at the first `completed` its
 * `GET /qemu` reports, and checks the target keeps the guest for SURVIVE_MS. Returns the target.
 */
async function killSourceAtCompletion(
  source: TestRunner,
  from: Where,
  to: Where,
  name: string,
): Promise<{ target: TestRunner; qemuStatusAtKill: string; custodyAtKill: string; msAfterStart: number }> {
  const plugged = (await source.client.status()).cpus.plugged;
  const target = startRunner(name, to, { cpus: plugged });
  await h.waitIncoming(target, 120_000);
  if (to.cgroup) await starve(target, to.cgroup);
  if (from.cgroup) await starve(source, from.cgroup);
  const t0 = Date.now();
  await source.client.startMigration({ targetHost: to.ip, targetVcpus: plugged });
  // A former target reports its own incoming migration `completed` until it streams: role `source` first.
  const atCompletion = await pollUntil(
    async () => {
      const q = await source.client.qemuState().catch(() => undefined);
      return q?.migrationRole === 'source' && q.migration.status === 'completed' ? q : undefined;
    },
    {
      timeoutMs: 300_000,
      intervalMs: 25,
      description: `${source.name}'s QEMU to report the migration completed`,
    },
  );
  // Where the target stands when the source says `completed` (a 504 under load: its QMP is busy).
  const targetThen = await target.client.qemuState().catch((e: Error) => ({ error: e.message }));
  const pid = source.child.pid;
  if (pid === undefined) throw new Error('the source runner has no PID');
  const killedAt = Date.now();
  process.kill(pid, 'SIGKILL');
  expect(await source.exited).toBeNull(); // ended by the signal
  const sourceQemu = source.info().qemuPid;
  await pollUntil(async () => (processGone(sourceQemu) ? true : undefined), {
    timeoutMs: 10_000,
    description: `the source QEMU (pid ${sourceQemu}) to die with its runner`,
  });

  let exitCode: number | null | undefined;
  void target.exited.then((c) => (exitCode = c));
  const fail = () => new Error(`the target runner exited (${exitCode}):\n${target.output().slice(-8000)}`);
  await h.waitReady(target, 120_000).catch(() => {
    throw exitCode !== undefined ? fail() : new Error(`target not ready:\n${target.output().slice(-8000)}`);
  });
  while (Date.now() < killedAt + SURVIVE_MS) {
    if (exitCode !== undefined) throw fail();
    const q = await target.client.qemuState();
    expect(q).toMatchObject({ qemuStatus: 'running', guest: 'running', migrationRole: 'none' });
    await new Promise((r) => setTimeout(r, 500));
  }
  if (exitCode !== undefined) throw fail();
  // Which side of QEMU's `finish-migrate` → `postmigrate` step the kill fell on, for the test log.
  console.log(
    `${source.name} killed ${killedAt - t0} ms after the start, at QEMU ${atCompletion.qemuStatus}; the target then: ${JSON.stringify(targetThen)}`,
  );
  return {
    target,
    qemuStatusAtKill: atCompletion.qemuStatus,
    custodyAtKill: atCompletion.guest,
    msAfterStart: killedAt - t0,
  };
}

it('user mode: the target keeps the guest when the source runner is SIGKILLed right after QEMU completed', async () => {
  const a: Where = { ip: '127.0.0.41' };
  const b: Where = { ip: '127.0.0.42' };
  const source = startRunner('vmc-aaaaa', a);
  await h.waitReady(source);
  await inGuest(source, a, 'echo on-disk > /root/f; echo in-memory > /dev/shm/m; sync');
  const { target, qemuStatusAtKill, custodyAtKill } = await killSourceAtCompletion(source, a, b, 'vmc-bbbbb');
  // QEMU 7.2 sets `completed` before it leaves `finish-migrate` for `postmigrate`: either may show.
  expect(['finish-migrate', 'postmigrate']).toContain(qemuStatusAtKill);
  expect(custodyAtKill).toBe('handed-off');
  expect(await inGuest(target, b, 'cat /root/f /dev/shm/m')).toBe('on-disk\nin-memory\n');
});

/**
 * Found with this test (2026-12-04): under CPU contention the migrated guest's kernel crashed on the
 * target right after the switch-over -- `list_del corruption`, a general protection fault on a
 * non-canonical address in ksoftirqd, a double fault in interrupt context ("Kernel panic - not
 * syncing: Fatal exception in interrupt") -- in 4 of 24 runs, with or without the kill; QEMU then
 * exited (reason guest-reset) and the runner with 1: the fault suite's "target runner exited too".
 *
 * Root cause: QEMU 7.2 loses guest writes during a live TCG pre-copy (its dirty bitmap is cleared
 * without resetting the TCG TLB's not-dirty flags; fixed upstream in 9.0, not in Debian's 7.2.22):
 * guest RAM of source and target differed after a live starved migration in 9 of 18 runs, in 0 of 8
 * with the source's vCPUs stopped for the stream. The runner now stops them under TCG (stop-and-copy,
 * runner/vm-control/migration.ts `stopsGuestForStream`); this test runs by default again.
 * Measured after the change: 20 of 20 runs passed (2026-12-04, the source killed 5.3-19.8 s after the
 * start, always in postmigrate; the guest paused for the stream throughout).
 */
describeIf(process.getuid?.() === 0, 'needs root (CPU cgroups)')('both ends starved of CPU', () => {
  const cgroups: QemuCpuCgroup[] = [];
  afterAll(async () => {
    await h.stopAll();
    // stopAll SIGKILLs the QEMUs without waiting for them: a cgroup with processes cannot go.
    for (const c of cgroups) {
      await pollUntil(
        async () => (readFileSync(join(c.dir, 'cgroup.procs'), 'utf8').trim() === '' ? true : undefined),
        { timeoutMs: 10_000, description: `${c.dir} to empty` },
      ).catch(() => undefined);
      await c.remove();
    }
  });
  const limited = async (name: string, milliCpu: number): Promise<QemuCpuCgroup> => {
    const c = await QemuCpuCgroup.create(`${name}-${process.pid}`);
    if (typeof c === 'string') throw new Error(`no CPU cgroup: ${c}`);
    cgroups.push(c);
    await c.setCpu(milliCpu);
    return c;
  };

  // The fault suite found the failure at load average > 40 on 2 cores: every thread got a few
  // percent of a CPU. Here the two runners and their QEMUs are held to that from the migration start
  // on (a starved runner would take minutes to start), while the machine stays idle.
  it('user mode, source at 100m and target at 50m CPU: the target keeps the guest when the source is SIGKILLed right after completed', async () => {
    const a: Where = { ip: '127.0.0.43', cgroup: await limited('custody-src', 100) };
    const b: Where = { ip: '127.0.0.44', cgroup: await limited('custody-tgt', 50) };
    const source = startRunner('vmc-ccccc', a);
    await h.waitReady(source);
    await inGuest(source, a, 'echo on-disk > /root/f; echo in-memory > /dev/shm/m; sync');
    const { target } = await killSourceAtCompletion(source, a, b, 'vmc-ddddd');
    // The load is over: ssh's timeouts are not what this test is about.
    for (const c of cgroups) await c.setCpu(4000);
    expect(await inGuest(target, b, 'cat /root/f /dev/shm/m')).toBe('on-disk\nin-memory\n');
  });
});

describeIf(process.getuid?.() === 0, 'needs root (network namespaces, tap devices)')(
  'in pod network namespaces',
  () => {
    let net: ClusterNetwork | undefined;
    afterAll(async () => {
      await h.stopAll();
      await net?.destroy();
    });

    it('tap mode, source a former target: the target keeps the guest when the source is SIGKILLed right after completed', async () => {
      net = await ClusterNetwork.create();
      await net.addNode(1);
      await net.addNode(2);
      const pods: Where[] = [];
      for (const [name, node] of [
        ['vmt-p0', 1],
        ['vmt-p1', 2],
        ['vmt-p2', 1],
      ] as const) {
        const pod = await net.createSandbox(name, node);
        pods.push({ ip: pod.ip, pod });
      }
      const [p0, p1, p2] = pods;
      const first = startRunner('vmt-aaaaa', p0);
      await h.waitReady(first, 240_000);
      // As the fault suite's VM before this scenario: scaled 1 → 2 → 1, so 2 vCPUs stay plugged.
      await first.client.setCpu(2000);
      await first.client.setCpu(1000);
      await inGuest(first, p0, 'echo on-disk > /root/f; echo in-memory > /dev/shm/m; sync');

      // First hop, clean: the source leaves after the handover (as the operator deletes it).
      const plugged = (await first.client.status()).cpus.plugged;
      expect(plugged).toBe(2);
      const second = startRunner('vmt-bbbbb', p1, { cpus: plugged });
      await h.waitIncoming(second, 120_000);
      await first.client.startMigration({ targetHost: p1.ip, targetVcpus: plugged });
      expect((await h.migrationOutcome(first, { timeoutMs: 300_000 })).status).toBe('completed');
      await h.waitReady(second, 120_000);
      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);

      // Second hop: the former target is the source, SIGKILLed at `completed`.
      const { target } = await killSourceAtCompletion(second, p1, p2, 'vmt-ccccc');
      expect(await inGuest(target, p2, 'cat /root/f /dev/shm/m')).toBe('on-disk\nin-memory\n');
    });
  },
);
