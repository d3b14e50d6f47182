/**
 * The fault-injection suite (issue 17): real processes — kube-apiserver, etcd, the operator as its own
 * process with leader election, node agents, runners, QEMU booting the Debian guest — and real faults:
 * SIGKILL of processes this test started (found by PID among its own descendants), restarts of the
 * control plane, a frozen TCP link (a partition: requests hang), status writes refused by an admission
 * webhook (lost writes). Each scenario records a row (scenario, outcome, figure) for `npm run faults`
 * and the README's reliability table. Scenarios share one stack and run in order.
 */
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { freePort, pollUntil } from '../../host';
import { parseMilliCpu, type VirtualMachine, type VirtualMachineMigration } from '../../crds';
import { recordFault } from './fault-report';
import {
  CUT_NODE,
  LEASE,
  PRIMARY,
  STANDBY,
  Vms,
  leaseHolder,
  startFaultStack,
  waitForLog,
  type FaultStack,
} from './fault-stack';
import { readGuestData, writeGuestData } from './guest-data';
import { qemuProcesses, runnerPid } from './processes';

jest.setTimeout(1_500_000);
/** An operator process starts in seconds on an idle machine, in over a minute on a loaded one. */
const LEADER_TIMEOUT_MS = 300_000;

let f: FaultStack;
let vms: Vms;
const progress: string[] = [];

beforeAll(async () => {
  f = await startFaultStack((l) => progress.push(l));
  vms = new Vms(f.cluster);
}, 1_200_000);

afterAll(async () => {
  if (process.env.NEONVM_FAULTS_VERBOSE) console.log(progress.join('\n'));
  // The cluster's directory goes with the stack: keep the operator's, agents' and pods' logs on request.
  const keep = process.env.NEONVM_FAULTS_LOG_DIR;
  if (keep && f) copyLogs(f.cluster.dir, keep);
  await f?.stop();
}, 180_000);

/** Copies every `*.log` file under `from` (the cluster's directory) to `to`, keeping relative paths. */
function copyLogs(from: string, to: string): void {
  for (const entry of readdirSync(from, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.log')) continue;
    const source = join(entry.parentPath, entry.name);
    const dest = join(to, relative(from, source));
    mkdirSync(dirname(dest), { recursive: true });
    copyFileSync(source, dest);
  }
}

/** Runs a scenario and records its row; a failed scenario is recorded as FAILED with its error. */
async function scenario(name: string, body: () => Promise<{ outcome: string; figure: string }>) {
  try {
    const r = await body();
    recordFault({ scenario: name, ...r, passed: true });
  } catch (err) {
    recordFault({
      scenario: name,
      outcome: (err as Error).message.split('\n')[0].slice(0, 200),
      figure: '',
      passed: false,
    });
    // CI keeps only the test output: what the cluster and the operator said goes with the failure.
    console.error(`scenario "${name}" failed; state at the failure:\n${await f.diagnose()}`);
    throw err;
  }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function vmBody(name: string, nodeSelector?: Record<string, string>) {
  return {
    apiVersion: 'vm.neon.tech/v1',
    kind: 'VirtualMachine',
    metadata: { name },
    spec: {
      ...(nodeSelector ? { nodeSelector } : {}),
      guest: {
        cpus: { min: 1, max: 2, use: 1 },
        memorySlotSize: '512Mi',
        memorySlots: { min: 1, max: 1, use: 1 },
        rootDisk: { image: 'neondatabase/vm-debian:11', size: '2Gi' },
      },
    },
  };
}

function migrationBody(name: string, vmName: string, spec: Record<string, unknown> = {}) {
  return {
    apiVersion: 'vm.neon.tech/v1',
    kind: 'VirtualMachineMigration',
    metadata: { name },
    spec: { vmName, ...spec },
  };
}

const cpusOf = (vm: VirtualMachine) =>
  vm.status?.cpus === undefined ? undefined : parseMilliCpu(vm.status.cpus) / 1000;
const running = (vm: VirtualMachine) => vm.status?.phase === 'Running' && !!vm.status.podName;
const ended = (m: VirtualMachineMigration) => m.status?.phase === 'Succeeded' || m.status?.phase === 'Failed';
/** Why a migration is degraded (failed), in its own words; undefined when it is not. */
const degradedBy = (m: VirtualMachineMigration) =>
  m.status?.conditions?.find((c) => c.type === 'Degraded' && c.status === 'True')?.message;
const reasonOf = (m: VirtualMachineMigration) =>
  m.status?.conditions?.find((c) => c.status === 'True' && c.type !== 'Available')?.reason ??
  m.status?.conditions?.map((c) => c.reason).join(',');

/** Pods of the VM that exist and are not ended (a terminating pod counts: its runner may still run). */
async function livePods(vm: string) {
  return (await vms.runnerPods(vm)).filter(
    (p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed',
  );
}

/** SIGKILL of a runner process this test started (the container's main process), by PID. */
function killRunner(pod: string): number {
  const pid = runnerPid(pod);
  if (pid === undefined) throw new Error(`no runner process of pod ${pod} among this test's processes`);
  process.kill(pid, 'SIGKILL');
  return pid;
}

/**
 * Why a migration scenario failed, for its error: the runner pods' ends and logs, the migration's
 * conditions and the operator's log lines about it (the stack and its logs are removed at the end).
 */
async function diagnosis(vm: string, migration: string): Promise<string> {
  const operator = f.operator
    .log()
    .split('\n')
    .filter((l) => l.includes(migration))
    .slice(-40);
  return [await vms.diagnose(vm, migration), 'operator:', ...operator].join('\n');
}

/** Samples the QEMUs of a VM until `stop` resolves; returns the most seen at once. */
function sampleQemus(vm: string, stop: Promise<unknown>): Promise<number> {
  let max = 0;
  let done = false;
  void stop.finally(() => (done = true));
  return (async () => {
    while (!done) {
      max = Math.max(max, qemuProcesses(vm).length);
      await new Promise((r) => setTimeout(r, 200));
    }
    return max;
  })();
}

describe('fault injection on real processes', () => {
  it('a leader whose API connection hangs steps down before the standby takes over', async () => {
    await scenario('leader whose API connection hangs', async () => {
      await waitForLog(f.operator, /"msg":"became leader"/, LEADER_TIMEOUT_MS);
      const standby = f.startStandby(await freePort());
      // A standby replica: up and watching the lease (it has seen renewals) before the leader's link hangs.
      await waitForLog(standby, /"msg":"operator started"/, LEADER_TIMEOUT_MS);
      await new Promise((r) => setTimeout(r, 3 * LEASE.retryMs));
      const exit = f.operator.nextExit();
      const frozenAt = Date.now();
      f.operatorLink.freeze();
      let down: Awaited<typeof exit>;
      let upAt: number;
      try {
        down = await exit;
        // Its lease expired long before this: the standby is up and watching.
        await waitForLog(standby, /"msg":"became leader"/, 120_000).catch((err: unknown) => {
          throw new Error(`${(err as Error).message}; standby exits: ${JSON.stringify(standby.exits)}`);
        });
        upAt = standbyLeaderAt(standby.log());
      } finally {
        f.operatorLink.thaw();
        // Back to the primary for the rest of the suite (it serves the webhooks).
        await standby.stop();
      }
      await pollUntil(async () => ((await leaseHolder(f.cluster)) === PRIMARY ? true : undefined), {
        timeoutMs: LEADER_TIMEOUT_MS,
        description: 'the primary leads again',
      });
      expect(down.at).toBeLessThan(upAt);
      expect(down.at - frozenAt).toBeLessThanOrEqual(LEASE.renewDeadlineMs + LEASE.retryMs + 1_000);
      return {
        outcome: `leader exited, then ${STANDBY} took the lease; never two leaders`,
        figure: `down ${seconds(down.at - frozenAt)}, standby ${seconds(upAt - frozenAt)} after the hang (renew deadline ${seconds(LEASE.renewDeadlineMs)}, lease ${seconds(LEASE.durationMs)})`,
      };
    });
  });

  it('operator SIGKILLed mid-reconcile ×10 converges, never two runner pods', async () => {
    await scenario('operator SIGKILLed mid-reconcile ×10', async () => {
      const t0 = Date.now();
      await vms.create('virtualmachines', vmBody('fv'));
      let use = 1;
      for (let i = 0; i < 10; i++) {
        // Kill while the operator is working: just after it took the lease, with a change pending.
        await pollUntil(async () => (f.operator.pid !== undefined ? true : undefined), {
          timeoutMs: 60_000,
          description: 'the operator restarted',
        });
        await waitForLog(f.operator, /"msg":"became leader"/, LEADER_TIMEOUT_MS);
        await new Promise((r) => setTimeout(r, 200 + ((i * 373) % 1500)));
        if (i >= 3) {
          use = use === 1 ? 2 : 1;
          await vms.patchCpus('fv', use);
        }
        const exit = f.operator.nextExit();
        f.operator.signal('SIGKILL');
        await exit;
      }
      const vm = await vms.waitVm('fv', `Running with ${use} CPU(s)`, (v) => running(v) && cpusOf(v) === use);
      const pods = await livePods('fv');
      expect(pods.map((p) => p.metadata?.name)).toEqual([vm.status?.podName]);
      expect(f.watcher.max('default', 'fv')).toBe(1);
      return {
        outcome: `converged: Running, cpus ${use}; at most ${f.watcher.max('default', 'fv')} runner pod at any time`,
        figure: `${f.operator.exits.filter((e) => e.signal === 'SIGKILL').length} kills, converged ${seconds(Date.now() - t0)} after create`,
      };
    });
  });

  it('kube-apiserver and etcd restarted under load recover', async () => {
    await scenario('kube-apiserver + etcd SIGKILLed and restarted under load', async () => {
      const before = (await vms.vm('fv')).status?.podName;
      const t0 = Date.now();
      // Load: a CPU change in flight while etcd, then the API server, are killed and restarted.
      await vms.patchCpus('fv', 2);
      await f.cluster.restart('etcd');
      await f.cluster.restart('kube-apiserver');
      const restartedMs = Date.now() - t0;
      await vms.patchCpus('fv', 1);
      const vm = await vms.waitVm('fv', 'Running with 1 CPU', (v) => running(v) && cpusOf(v) === 1);
      expect(vm.status?.podName).toBe(before);
      expect(f.watcher.max('default', 'fv')).toBe(1);
      return {
        outcome: 'recovered: the next change applied, same runner pod, never two runner pods',
        figure: `restarts ${seconds(restartedMs)}, change applied ${seconds(Date.now() - t0)} after the first kill`,
      };
    });
  });

  let sums = '';

  it('target SIGKILLed mid-migration: the VM keeps running on the source, data intact', async () => {
    await scenario('target runner SIGKILLed mid-migration (pre-copy)', async () => {
      const source = (await vms.vm('fv')).status?.podName ?? '';
      sums = await writeGuestData(f.stack, source);
      await vms.create('virtualmachinemigrations', migrationBody('fm-target', 'fv', { maxBandwidth: '4Mi' }));
      const m = await vms.waitMigration('fm-target', (x) => !!x.status?.targetPodName);
      const target = m.status?.targetPodName ?? '';
      await vms.waitQemu(
        'fv',
        source,
        (q) =>
          q.migrationRole === 'source' &&
          q.migration.status === 'active' &&
          (q.migration.ram?.transferred ?? 0) > 0,
      );
      const t0 = Date.now();
      const pid = killRunner(target);
      const done = await vms.waitMigration('fm-target', ended);
      const vm = await vms.waitVm('fv', 'Running on the source', running);
      expect(done.status?.phase).toBe('Failed');
      expect(vm.status?.podName).toBe(source);
      expect(await readGuestData(f.stack, source)).toBe(sums);
      return {
        outcome: `migration Failed (${reasonOf(done)}), VM Running on the source, checksums equal`,
        figure: `target pid ${pid} killed; Failed ${seconds(Date.now() - t0)} after the kill`,
      };
    });
  });

  it('VM status write lost after a fast migration: the target holding the guest is kept', async () => {
    await scenario('VM status write lost after a fast migration', async () => {
      const source = (await vms.vm('fv')).status?.podName ?? '';
      const rule = f.dropper.drop(
        'VM podName switch',
        (w) =>
          w.resource === 'virtualmachines/status' &&
          w.name === 'fv' &&
          (w.object?.status?.podName ?? '') !== (w.oldObject?.status?.podName ?? ''),
        20_000,
      );
      const t0 = Date.now();
      await vms.create('virtualmachinemigrations', migrationBody('fm-lost', 'fv'));
      const done = await vms.waitMigration('fm-lost', ended);
      // A failed migration leaves the VM on the source: say why at once rather than wait for the target.
      expect({ phase: done.status?.phase, degraded: degradedBy(done) }).toEqual({
        phase: 'Succeeded',
        degraded: undefined,
      });
      const target = done.status?.targetPodName ?? '';
      const vm = await vms.waitVm(
        'fv',
        'Running on the target',
        (v) => running(v) && v.status?.podName === target,
      );
      expect(rule.refused.length).toBeGreaterThan(0);
      // The source pod ends once the operator deletes it; the target stays, never marked for deletion.
      const pods = await pollUntil(
        async () => {
          const live = await livePods('fv');
          return live.length === 1 ? live : undefined;
        },
        { timeoutMs: 180_000, description: 'only the target pod left' },
      );
      expect(pods.map((p) => p.metadata?.name)).toEqual([target]);
      expect(pods[0].metadata?.deletionTimestamp).toBeUndefined();
      expect(await readGuestData(f.stack, vm.status?.podName ?? '')).toBe(sums);
      return {
        outcome: `migration Succeeded, VM Running on the target (${source} → ${target}), target never deleted, checksums equal`,
        figure: `${rule.refused.length} status writes lost over ${seconds(20_000)}; converged ${seconds(Date.now() - t0)} after create`,
      };
    });
  });

  // Found by this suite on 2026-12-04 (one run, under heavy load): the source killed right after its
  // QEMU reported the stream completed, the target runner exited too (code 1), the migration Failed
  // (GuestLost) and the VM restarted: the guest was lost. Not the kill: QEMU 7.2 loses guest writes
  // during a live TCG pre-copy, the guest arrived corrupt and panicked on the target
  // (runner/source-loss.int.test.ts). The runner now stops the guest for the stream under TCG
  // (runner/vm-control/migration.ts `stopsGuestForStream`), and the scenario runs again.
  it('source SIGKILLed after QEMU completed: the VM runs on the target, data intact', async () => {
    await scenario('source runner SIGKILLed after QEMU completed', async () => {
      const source = (await vms.vm('fv')).status?.podName ?? '';
      await vms.create('virtualmachinemigrations', migrationBody('fm-done', 'fv'));
      const targetPod = (await vms.waitMigration('fm-done', (x) => !!x.status?.targetPodName)).status
        ?.targetPodName;
      const logs = [source, targetPod ?? ''].map((pod) => ({ pod, log: vms.keepRunnerLog(pod) }));
      try {
        // This QEMU's outgoing stream completed (a former target also reports its incoming one).
        await vms.waitQemu(
          'fv',
          source,
          (q) => q.migrationRole === 'source' && q.migration.status === 'completed',
          300_000,
        );
        const phaseAtKill = (await vms.migration('fm-done')).status?.phase;
        const t0 = Date.now();
        const pid = killRunner(source);
        const done = await vms.waitMigration('fm-done', ended);
        const target = done.status?.targetPodName ?? '';
        if (done.status?.phase !== 'Succeeded') {
          const kept = logs.flatMap(({ pod, log }) => [`last runner log of ${pod}:`, log.latest()]);
          throw new Error(
            [
              `migration ${done.status?.phase} (${reasonOf(done)}) after the kill`,
              await diagnosis('fv', 'fm-done'),
              ...kept,
            ].join('\n'),
          );
        }
        const vm = await vms.waitVm(
          'fv',
          'Running on the target',
          (v) => running(v) && v.status?.podName === target,
        );
        expect(await readGuestData(f.stack, vm.status?.podName ?? '')).toBe(sums);
        return {
          outcome: `migration Succeeded, VM Running on the target, checksums equal`,
          figure: `source pid ${pid} killed at migration phase ${phaseAtKill}; Succeeded ${seconds(Date.now() - t0)} after the kill`,
        };
      } finally {
        for (const { log } of logs) log.stop();
      }
    });
  });

  // Verified 2026-12-04 in two complete runs (with the scenario above); its one earlier run had waited
  // on a VM the (then) known failure above restarted, which this scenario now waits for first.
  it('source SIGKILLed mid-migration (pre-copy): migration Failed, VM restarted by its policy', async () => {
    await scenario('source runner SIGKILLed mid-migration (pre-copy)', async () => {
      // The scenario before may have restarted the VM (when it lost the guest, as it did under load
      // before the fix there): start from a running guest, not from a pod that is still booting.
      const before = await vms.waitVm('fv', 'Running', running);
      const source = before.status?.podName ?? '';
      await vms.create('virtualmachinemigrations', migrationBody('fm-source', 'fv', { maxBandwidth: '4Mi' }));
      await vms.waitQemu(
        'fv',
        source,
        (q) =>
          q.migrationRole === 'source' &&
          q.migration.status === 'active' &&
          (q.migration.ram?.transferred ?? 0) > 0,
      );
      const t0 = Date.now();
      killRunner(source);
      const done = await vms.waitMigration('fm-source', ended);
      const failedMs = Date.now() - t0;
      const vm = await vms.waitVm(
        'fv',
        'Running again after a restart',
        (v) => running(v) && (v.status?.restartCount ?? 0) > (before.status?.restartCount ?? 0),
      );
      expect(done.status?.phase).toBe('Failed');
      expect(f.watcher.max('default', 'fv')).toBe(1);
      expect((await livePods('fv')).map((p) => p.metadata?.name)).toEqual([vm.status?.podName]);
      return {
        outcome: `migration Failed (${reasonOf(done)}); the guest lived only in the source (pre-copy), so the VM restarted by restartPolicy Always; never two runner pods`,
        figure: `Failed ${seconds(failedMs)} after the kill; Running again ${seconds(Date.now() - t0)} after the kill`,
      };
    });
  });

  it('target SIGKILLed during post-copy: migration PostCopyFailed, VM restarted by its policy, never Running on the paused source', async () => {
    await scenario('target runner SIGKILLed during post-copy', async () => {
      // Post-copy needs userfaultfd on the target's host; this host has it (runner/postcopy.int.test.ts
      // runs unconditionally here), so the scenario does not skip.
      const before = await vms.waitVm('fv', 'Running', running);
      const source = before.status?.podName ?? '';
      // A low bandwidth (QEMU's post-copy limit too, see runner/vm-control/migration.ts) keeps the guest
      // split between both ends long enough to kill the target while it is.
      await vms.create(
        'virtualmachinemigrations',
        migrationBody('fm-postcopy', 'fv', { allowPostCopy: true, maxBandwidth: '4Mi' }),
      );
      const m = await vms.waitMigration('fm-postcopy', (x) => !!x.status?.targetPodName);
      const target = m.status?.targetPodName ?? '';
      // Kept for the diagnosis: once (full run, 2026-12-04 21:38) this migration ended TargetPodFailed
      // instead of PostCopyFailed, and a rerun passed; the runners' side of that is what is unknown.
      const logs = [source, target].map((pod) => ({ pod, log: vms.keepRunnerLog(pod) }));
      try {
        await vms.waitQemu(
          'fv',
          source,
          (q) => q.migrationRole === 'source' && q.migration.status === 'postcopy-active',
        );
        const phaseAtKill = (await vms.migration('fm-postcopy')).status?.phase;
        const t0 = Date.now();
        const pid = killRunner(target);
        // From the kill on, the VM must never be shown Running on the source: its QEMU is paused for good.
        let onSource = 0;
        let restarted: VirtualMachine | undefined;
        const vm = await pollUntil(
          async () => {
            const v = await vms.vm('fv').catch(() => undefined);
            if (v && running(v) && v.status?.podName === source) onSource++;
            if (v && running(v) && (v.status?.restartCount ?? 0) > (before.status?.restartCount ?? 0))
              restarted = v;
            return restarted;
          },
          { timeoutMs: 600_000, intervalMs: 100, description: 'VM fv: Running again after a restart' },
        );
        const restartedMs = Date.now() - t0;
        const done = await vms.waitMigration('fm-postcopy', ended);
        if (reasonOf(done) !== 'PostCopyFailed')
          console.error(
            [
              `fm-postcopy ended ${done.status?.phase} (${reasonOf(done)}); its phase when the target was killed: ${phaseAtKill}`,
              ...logs.flatMap(({ pod, log }) => [`last runner log of ${pod}:`, log.latest()]),
            ].join('\n'),
          );
        expect({ phase: done.status?.phase, reason: reasonOf(done) }).toEqual({
          phase: 'Failed',
          reason: 'PostCopyFailed',
        });
        expect(onSource).toBe(0);
        expect(vm.status?.podName).not.toBe(source);
        expect(f.watcher.max('default', 'fv')).toBe(1);
        expect((await livePods('fv')).map((p) => p.metadata?.name)).toEqual([vm.status?.podName]);
        // The killed target's QEMU went with its runner, the paused source's with its pod.
        const qemus = await pollUntil(
          async () => {
            const q = qemuProcesses('fv');
            return q.length === 1 ? q : undefined;
          },
          { timeoutMs: 120_000, description: 'one QEMU of fv left' },
        );
        expect(qemus.map((q) => q.pod)).toEqual([vm.status?.podName]);
        return {
          outcome: `migration Failed (${reasonOf(done)}); the guest was split between both ends, so the VM restarted by restartPolicy Always (restart ${vm.status?.restartCount}); never Running on the paused source, never two runner pods`,
          figure: `target pid ${pid} killed in postcopy-active; Running again ${seconds(restartedMs)} after the kill`,
        };
      } finally {
        for (const { log } of logs) log.stop();
      }
    });
  });

  // Verified 2026-12-04 in two complete runs.
  it('a node agent cut off from the API server while its QEMU runs: never two QEMUs for one VM', async () => {
    await scenario('node agent cut off from the API server, its pod deleted', async () => {
      await vms.deleteVm('fv');
      await vms.create('virtualmachines', vmBody('fn', { 'kubernetes.io/hostname': CUT_NODE }));
      const vm = await vms.waitVm('fn', 'Running', running);
      const pod = vm.status?.podName ?? '';
      expect(qemuProcesses('fn').map((q) => q.pod)).toEqual([pod]);
      f.nodeLink.freeze();
      const cutAt = Date.now();
      // Graceful delete while the node cannot hear it: the pod is Terminating, its QEMU still runs.
      const core = f.cluster.kubeConfig.makeApiClient(CoreV1Api);
      await core.deleteNamespacedPod({ name: pod, namespace: 'default' });
      const windowMs = 30_000;
      const window = new Promise((r) => setTimeout(r, windowMs));
      const maxQemus = sampleQemus('fn', window);
      await window;
      const duringCut = await maxQemus;
      const podsDuringCut = (await vms.runnerPods('fn')).map((p) => p.metadata?.name);
      f.nodeLink.thaw();
      const healedAt = Date.now();
      const again = await vms.waitVm(
        'fn',
        'Running in a new pod',
        (v) => running(v) && v.status?.podName !== pod,
      );
      const after = qemuProcesses('fn');
      expect(duringCut).toBe(1);
      expect(podsDuringCut).toEqual([pod]);
      expect(after.map((q) => q.pod)).toEqual([again.status?.podName]);
      expect(f.watcher.max('default', 'fn')).toBe(1);
      return {
        outcome: `no replacement while the old pod could still run (Terminating on a cut-off node); replaced once the node confirmed it gone`,
        figure: `${duringCut} QEMU during ${seconds(windowMs)} cut off (${seconds(healedAt - cutAt)}); new runner ${seconds(Date.now() - healedAt)} after healing`,
      };
    });
  });
});

/** When the standby logged "became leader" (pino's `time`: ISO text or ms since the epoch). */
function standbyLeaderAt(log: string): number {
  const line = log.split('\n').find((l) => l.includes('"msg":"became leader"'));
  const time = line ? (JSON.parse(line) as { time?: string | number }).time : undefined;
  if (time === undefined) throw new Error('the standby never logged "became leader"');
  return typeof time === 'number' ? time : Date.parse(time);
}
