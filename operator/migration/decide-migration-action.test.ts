import type { V1Pod } from '@kubernetes/client-node';
import {
  T0,
  deleting,
  migrationFixture,
  podFixture,
  qemuFixture,
  vmFixture,
  withMigrationPhase,
  withPhase,
} from '../testing/fixtures';
import {
  decideMigrationAction,
  MIGRATION_POLL_MS,
  type MigrationDecision,
  type MigrationObservation,
} from './decide-migration-action';
import type { QemuObservation } from './guest-whereabouts';

const running = vmFixture(withPhase('Running', { podName: 'src', podIP: '10.244.1.5', node: 'node-1' }));
const preMigrating = vmFixture(
  withPhase('PreMigrating', { podName: 'src', podIP: '10.244.1.5', node: 'node-1' }),
);
const migrating = vmFixture(withPhase('Migrating', { podName: 'src', podIP: '10.244.1.5', node: 'node-1' }));
const switched = vmFixture(withPhase('Running', { podName: 'tgt' }));
const source = podFixture('src', 'ready');
const targetAs = (state: 'running-unready' | 'pending' | 'failed' | 'succeeded'): V1Pod =>
  podFixture('tgt', state, [
    (p) => {
      p.spec!.nodeName = 'node-2';
      p.status!.podIP = '10.244.2.7';
      p.metadata!.ownerReferences = [
        {
          apiVersion: 'vm.neon.tech/v1',
          kind: 'VirtualMachineMigration',
          name: 'mig1',
          uid: 'uid-mig1',
          controller: true,
        },
      ];
    },
  ]);
const target = targetAs('running-unready');
const phase = (p: 'Pending' | 'Running' | 'Succeeded' | 'Failed', extra = {}) =>
  migrationFixture(withMigrationPhase(p, extra));

function decide(partial: Partial<MigrationObservation> & Pick<MigrationObservation, 'migration'>) {
  return decideMigrationAction({ vm: running, newTargetPodName: 'vm1-tgt01', now: T0 + 1000, ...partial });
}
const kinds = (d: { actions: { kind: string }[] }) =>
  d.actions.map((a) => a.kind).filter((k) => k !== 'event');
const degraded = (d: MigrationDecision) => d.status.conditions?.find((c) => c.type === 'Degraded')?.reason;
const unreachable: QemuObservation = { error: 'runner /qemu: no answer within 3000 ms' };

// Runner reports (`GET /qemu`) in the states that matter.
const srcRunning = qemuFixture('running');
const srcStreaming = qemuFixture('running', 'active');
const srcSwitching = qemuFixture('finish-migrate', 'device');
const srcHandedOff = qemuFixture('postmigrate', 'completed');
const srcPostcopy = qemuFixture('postmigrate', 'postcopy-active');
const srcPostcopyPaused = qemuFixture('postmigrate', 'postcopy-paused');
const srcFailed = qemuFixture('running', 'failed');
const tgtListening = qemuFixture('inmigrate');
const tgtReceiving = qemuFixture('inmigrate', 'active');
const tgtRunning = qemuFixture('running', 'completed');
const tgtPostcopy = qemuFixture('running', 'postcopy-active');

describe('decideMigrationAction: first rounds (upstream §8.2)', () => {
  it('finalizer -> owner -> condition+target name -> Pending with VM PreMigrating', () => {
    expect(kinds(decide({ migration: migrationFixture((m) => (m.metadata!.finalizers = [])) }))).toEqual([
      'add-finalizer',
    ]);
    expect(kinds(decide({ migration: migrationFixture((m) => (m.metadata!.ownerReferences = [])) }))).toEqual(
      ['set-owner'],
    );
    const r3 = decide({ migration: migrationFixture() });
    expect(r3.status.targetPodName).toBe('vm1-tgt01');
    expect(r3.status.conditions?.[0]).toMatchObject({ type: 'Available', status: 'Unknown' });
    const r4 = decide({ migration: migrationFixture((m) => (m.status = r3.status)) });
    expect(r4.status).toMatchObject({
      phase: 'Pending',
      sourcePodName: 'src',
      sourcePodIP: '10.244.1.5',
      sourceNode: 'node-1',
    });
    expect(r4.actions).toEqual([]);
  });

  it('a second migration waits while the VM is not Running', () => {
    const second = migrationFixture((m) => (m.status = { targetPodName: 'x', conditions: [] }));
    const d = decide({ migration: second, vm: preMigrating });
    expect(d.status.phase).toBeUndefined();
    expect(d.actions).toEqual([]);
  });

  it('migrations of one VM take turns, oldest first, even before the VM shows the first one', () => {
    const named = (name: string, createdMs: number, status: object) =>
      migrationFixture((m) => {
        m.metadata!.name = name;
        m.metadata!.creationTimestamp = new Date(createdMs).toISOString();
        m.status = { targetPodName: `${name}-tgt`, conditions: [], ...status };
      });
    const older = named('a', T0, {});
    const newer = named('b', T0 + 1000, {});
    expect(decide({ migration: older, vmMigrations: [older, newer] }).status.phase).toBe('Pending');
    expect(decide({ migration: newer, vmMigrations: [older, newer] }).status.phase).toBeUndefined();
    // Created in the same second: the name decides.
    const twin = named('c', T0, {});
    expect(decide({ migration: twin, vmMigrations: [twin, older] }).status.phase).toBeUndefined();
    // A finished migration no longer holds the line.
    const failed = named('a', T0, { phase: 'Failed' });
    expect(decide({ migration: newer, vmMigrations: [failed, newer] }).status.phase).toBe('Pending');
  });
});

describe('decideMigrationAction: Pending', () => {
  it('waits for the VM controller to stop scaling (PreMigrating) before it makes the target pod', () => {
    for (const vm of [running, vmFixture(withPhase('Scaling', { podName: 'src' }))]) {
      const d = decide({ migration: phase('Pending'), vm, sourcePod: source });
      expect(d.actions).toEqual([]);
      expect(d.status.phase).toBe('Pending');
    }
  });

  it.each([
    ['the VM moved to another pod', vmFixture(withPhase('PreMigrating', { podName: 'other' }))],
    ['the VM left Running', vmFixture(withPhase('Failed', { podName: 'src' }))],
  ])('fails when %s before the migration started', (_, vm) => {
    const d = decide({ migration: phase('Pending'), vm, sourcePod: source });
    expect(d.status.phase).toBe('Failed');
    expect(degraded(d)).toBe('MigrationFailed');
  });

  it('a NotReady source still runs the guest: wait for it, never fail the VM with SourcePodFailed', () => {
    const notReady = podFixture('src', 'running-unready');
    const d = decide({ migration: phase('Pending'), vm: preMigrating, sourcePod: notReady });
    expect(d.status.phase).toBe('Pending');
    expect(d.actions).toEqual([]);
    expect(d.requeueAfterMs).toBe(MIGRATION_POLL_MS);
    // Bounded by completionTimeout, whose failure leaves the VM running on its source.
    const timed = migrationFixture(withMigrationPhase('Pending'), (m) => (m.spec.completionTimeout = 60));
    const late = decide({ migration: timed, vm: preMigrating, sourcePod: notReady, now: T0 + 61_000 });
    expect(late.status.phase).toBe('Failed');
    expect(degraded(late)).toBe('CompletionTimeout');
    // Ready again: the target pod is made.
    expect(kinds(decide({ migration: phase('Pending'), vm: preMigrating, sourcePod: source }))).toEqual([
      'create-target-pod',
    ]);
  });

  it.each([
    ['ended', podFixture('src', 'failed')],
    ['gone', undefined],
  ])('a source pod that %s before the target was made lost the guest: SourcePodFailed', (_, pod) => {
    const d = decide({ migration: phase('Pending'), vm: preMigrating, sourcePod: pod });
    expect(d.status.phase).toBe('Failed');
    expect(degraded(d)).toBe('SourcePodFailed');
  });

  it('creates the target pod, then waits for it, then for its QEMU to listen', () => {
    expect(kinds(decide({ migration: phase('Pending'), vm: preMigrating, sourcePod: source }))).toEqual([
      'create-target-pod',
    ]);
    const waiting = decide({
      migration: phase('Pending'),
      vm: preMigrating,
      sourcePod: source,
      targetPod: target,
      source: srcRunning,
      target: unreachable,
    });
    expect(kinds(waiting)).toEqual([]);
    expect(waiting.requeueAfterMs).toBe(MIGRATION_POLL_MS);
    expect(waiting.status.targetPodIP).toBe('10.244.2.7');
  });

  it('moves the VM to Migrating only together with a successful start (#1427)', () => {
    const d = decide({
      migration: phase('Pending'),
      vm: preMigrating,
      sourcePod: source,
      targetPod: target,
      source: srcRunning,
      target: tgtListening,
    });
    expect(kinds(d)).toEqual(['start-migration']);
    expect(d.status.phase).toBe('Running');
    expect(d.status.targetNode).toBe('node-2');
  });

  it.each([
    ['failed', 'TargetPodFailed'],
    ['succeeded', 'TargetPodFailed'],
  ] as const)('target pod %s -> Failed (%s), target deleted', (state, reason) => {
    const d = decide({
      migration: phase('Pending'),
      vm: preMigrating,
      sourcePod: source,
      targetPod: targetAs(state),
      source: srcRunning,
    });
    expect(d.status.phase).toBe('Failed');
    expect(degraded(d)).toBe(reason);
    expect(kinds(d)).toEqual(['delete-pod']);
    expect(d.outcome).toMatchObject({ result: 'failed', reason });
  });

  it('enforces completionTimeout while the source still has the guest', () => {
    const d = decide({
      migration: phase('Pending'),
      vm: preMigrating,
      sourcePod: source,
      targetPod: target,
      source: srcRunning,
      target: tgtListening,
      now: T0 + 3_600_000,
    });
    expect(degraded(d)).toBe('CompletionTimeout');
    expect(d.status.phase).toBe('Failed');
    expect(d.actions).toContainEqual({ kind: 'delete-pod', podName: 'tgt' });
  });
});

describe('decideMigrationAction: a lost status write after the start (still Pending)', () => {
  const pending = {
    migration: phase('Pending'),
    vm: preMigrating,
    sourcePod: source,
    targetPod: target,
  };

  it('a fast migration that completed meanwhile succeeds instead of timing out and deleting the target', () => {
    for (const now of [T0 + 1000, T0 + 3_600_000]) {
      const d = decide({ ...pending, source: srcHandedOff, target: tgtRunning, now });
      expect(d.status.phase).toBe('Succeeded');
      expect(kinds(d)).toEqual(['adopt-target-pod']);
      expect(d.actions).not.toContainEqual(expect.objectContaining({ kind: 'delete-pod' }));
    }
  });

  it.each([
    ['pre-copy', srcStreaming, tgtReceiving],
    ['post-copy', srcPostcopy, tgtPostcopy],
  ])('a %s stream already flowing is recorded as Running, not started again', (_, s, t) => {
    const d = decide({ ...pending, source: s, target: t });
    expect(d.status.phase).toBe('Running');
    expect(kinds(d)).toEqual([]);
    expect(d.actions).toContainEqual(expect.objectContaining({ reason: 'MigrationRecovered' }));
  });

  it('the source completed and died: the target is asked and holds the guest -> Succeeded', () => {
    const d = decide({ ...pending, sourcePod: podFixture('src', 'failed'), target: tgtRunning });
    expect(d.status.phase).toBe('Succeeded');
  });
});

describe('decideMigrationAction: Running', () => {
  const base = {
    migration: phase('Running', { targetPodIP: '10.244.2.7', targetNode: 'node-2' }),
    vm: migrating,
    sourcePod: source,
    targetPod: target,
  };

  it('tracks progress into status.info', () => {
    const d = decide({ ...base, source: srcStreaming, target: tgtReceiving });
    expect(d.status.info).toEqual({ status: 'active' });
    expect(d.requeueAfterMs).toBe(MIGRATION_POLL_MS);
    expect(d.actions).toEqual([]);
  });

  it('on completion hands the target pod to the VM and succeeds (the VM controller switches the VM)', () => {
    const d = decide({ ...base, source: srcHandedOff, target: tgtRunning });
    expect(kinds(d)).toEqual(['adopt-target-pod']);
    expect(d.status).toMatchObject({
      phase: 'Succeeded',
      targetPodName: 'tgt',
      targetPodIP: '10.244.2.7',
      targetNode: 'node-2',
      info: { status: 'completed' },
    });
    expect(d.outcome?.result).toBe('succeeded');
  });

  it('waits through the switch-over (source paused, target already running)', () => {
    const d = decide({ ...base, source: srcSwitching, target: tgtRunning });
    expect(d.status.phase).toBe('Running');
    expect(d.actions).toEqual([]);
  });

  it('succeeds once the source says completed, also before its QEMU has left finish-migrate', () => {
    // QEMU 7.2 reports `completed` while still in finish-migrate (runner/source-loss.int.test.ts).
    const d = decide({ ...base, source: qemuFixture('finish-migrate', 'completed'), target: tgtRunning });
    expect(d.status.phase).toBe('Succeeded');
    expect(kinds(d)).toEqual(['adopt-target-pod']);
  });

  it('deletes the source pod once Succeeded (after the VM switch was written), never the VM pod', () => {
    const succeeded = phase('Succeeded', { targetPodIP: '10.244.2.7' });
    expect(
      decide({ migration: succeeded, vm: switched, sourcePod: source, targetPod: target }).actions,
    ).toEqual([{ kind: 'delete-pod', podName: 'src' }]);
    expect(decide({ migration: succeeded, vm: switched, targetPod: target }).actions).toEqual([]);
    // Not before the VM points at the target.
    expect(decide({ migration: succeeded, vm: migrating, sourcePod: source }).actions).toEqual([]);
  });

  it('finishes (without adopting again) when the VM already runs in the target', () => {
    const d = decide({ ...base, vm: switched, sourcePod: undefined });
    expect(d.status.phase).toBe('Succeeded');
    expect(kinds(d)).toEqual([]);
  });

  it('QEMU failure -> Failed, the target (waiting, empty) is deleted and the source left running', () => {
    const d = decide({ ...base, source: srcFailed, target: tgtListening });
    expect(d.status.phase).toBe('Failed');
    expect(degraded(d)).toBe('MigrationFailed');
    expect(kinds(d)).toEqual(['delete-pod']);
    // QEMU's own reason goes into the condition (the fault suite's CI failure said only "failed").
    const why = "Failed to connect to '10.244.2.2:20187': Connection timed out";
    const said = decide({ ...base, source: { ...srcFailed, migrationError: why }, target: tgtListening });
    expect(said.status.conditions?.find((c) => c.type === 'Degraded')?.message).toBe(
      `QEMU migration failed: ${why}`,
    );
  });

  it('target pod gone -> cancel on the source and fail', () => {
    const d = decide({ ...base, targetPod: undefined, source: srcStreaming });
    expect(kinds(d)).toEqual(['cancel-migration']);
    expect(degraded(d)).toBe('TargetPodDisappeared');
  });

  it('timeout while streaming pre-copy: cancel, and delete the target only after asking again', () => {
    const d = decide({ ...base, source: srcStreaming, target: tgtReceiving, now: T0 + 3_600_000 });
    expect(degraded(d)).toBe('CompletionTimeout');
    expect(kinds(d)).toEqual(['cancel-migration']);
    // The cancel came too late: the stream completed. The Failed migration notices and succeeds.
    const failed = phase('Failed', { targetPodIP: '10.244.2.7' });
    const late = decide({ ...base, migration: failed, source: srcHandedOff, target: tgtRunning });
    expect(late.status.phase).toBe('Succeeded');
    expect(kinds(late)).toEqual(['adopt-target-pod']);
    // The cancel worked: the source runs, the target waits empty -> it is deleted now.
    const cleaned = decide({ ...base, migration: failed, source: srcRunning, target: tgtListening });
    expect(cleaned.actions).toEqual([{ kind: 'delete-pod', podName: 'tgt' }]);
  });

  it('post-copy is never cancelled, not even after the timeout', () => {
    const d = decide({ ...base, source: srcPostcopy, target: tgtPostcopy, now: T0 + 3_600_000 });
    expect(d.status.phase).toBe('Running');
    expect(d.actions).toEqual([]);
  });
});

describe('decideMigrationAction: never delete a pod that may hold the only running guest', () => {
  const running_ = phase('Running', { targetPodIP: '10.244.2.7' });
  type Row = [
    string,
    Partial<MigrationObservation>,
    { phase: string; reason?: string; deletes: string[]; cancels?: boolean },
  ];
  const rows: Row[] = [
    [
      'source SIGKILLed after QEMU completed: target asked, holds the guest',
      { sourcePod: podFixture('src', 'failed'), source: undefined, target: tgtRunning },
      { phase: 'Succeeded', deletes: [] },
    ],
    [
      'source pod gone entirely after completion',
      { sourcePod: undefined, target: tgtRunning },
      { phase: 'Succeeded', deletes: [] },
    ],
    [
      'source ended mid-stream, the target still settles the stream: wait',
      { sourcePod: podFixture('src', 'failed'), target: tgtReceiving },
      { phase: 'Running', deletes: [] },
    ],
    [
      'source ended mid-stream, the target QEMU exited: the guest is lost with the source',
      { sourcePod: podFixture('src', 'failed'), targetPod: targetAs('failed') },
      { phase: 'Failed', reason: 'SourcePodFailed', deletes: ['tgt'] },
    ],
    [
      'target SIGKILLed mid pre-copy: the source keeps the guest',
      { targetPod: targetAs('failed'), source: srcStreaming },
      { phase: 'Failed', reason: 'TargetPodFailed', deletes: [], cancels: true },
    ],
    [
      'target SIGKILLed during post-copy: the guest is lost, the VM fails and restarts',
      { targetPod: targetAs('failed'), source: srcPostcopyPaused },
      { phase: 'Failed', reason: 'PostCopyFailed', deletes: ['tgt'] },
    ],
    [
      'target SIGKILLed late in post-copy, QEMU 10 restarted the source and an older runner says running: lost',
      {
        migration: phase('Running', { targetPodIP: '10.244.2.7', info: { status: 'postcopy-active' } }),
        targetPod: targetAs('failed'),
        source: qemuFixture('running', 'failed'),
      },
      { phase: 'Failed', reason: 'PostCopyFailed', deletes: ['tgt'] },
    ],
    [
      'the same report without a recorded post-copy: a failed pre-copy, the source keeps the guest',
      { targetPod: targetAs('failed'), source: qemuFixture('running', 'failed') },
      { phase: 'Failed', reason: 'TargetPodFailed', deletes: ['tgt'] },
    ],
    [
      'source SIGKILLed during post-copy: the guest is lost',
      { sourcePod: podFixture('src', 'failed'), target: qemuFixture('running', 'postcopy-paused') },
      { phase: 'Failed', reason: 'PostCopyFailed', deletes: ['tgt'] },
    ],
    [
      'target ended right after the source handed over: lost, never Running on the paused source',
      { targetPod: targetAs('failed'), source: srcHandedOff },
      { phase: 'Failed', reason: 'GuestLost', deletes: ['tgt'] },
    ],
    [
      'target runner does not answer while the source streams: nothing is decided',
      { source: srcStreaming, target: unreachable, now: T0 + 3_600_000 },
      { phase: 'Running', deletes: [] },
    ],
    [
      'source runner does not answer, target receiving: nothing is decided',
      { source: unreachable, target: tgtReceiving, now: T0 + 3_600_000 },
      { phase: 'Running', deletes: [] },
    ],
    [
      'a terminating source pod (node unreachable) is not dead: its runner is asked',
      {
        sourcePod: podFixture('src', 'ready', [
          (p) => (p.metadata!.deletionTimestamp = new Date(T0 - 60_000)),
        ]),
        source: unreachable,
        target: tgtReceiving,
      },
      { phase: 'Running', deletes: [] },
    ],
    [
      'both run a whole guest (failure reported to the source only): keep the source',
      { source: srcFailed, target: tgtRunning },
      { phase: 'Failed', reason: 'MigrationFailed', deletes: ['tgt'] },
    ],
  ];
  it.each(rows)('%s', (_, obs, want) => {
    const d = decide({ migration: running_, vm: migrating, sourcePod: source, targetPod: target, ...obs });
    expect(d.status.phase).toBe(want.phase);
    if (want.reason) expect(degraded(d)).toBe(want.reason);
    const deleted = d.actions.flatMap((a) => (a.kind === 'delete-pod' ? [a.podName] : []));
    expect(deleted).toEqual(want.deletes);
    expect(d.actions.some((a) => a.kind === 'cancel-migration')).toBe(!!want.cancels);
  });

  it('a Failed migration keeps the target until it is sure the target does not hold the guest', () => {
    const failed = phase('Failed', { targetPodIP: '10.244.2.7' });
    const unsure = decide({ migration: failed, vm: running, sourcePod: source, targetPod: target });
    expect(unsure.actions).toEqual([]);
    expect(unsure.requeueAfterMs).toBe(MIGRATION_POLL_MS);
    const sure = decide({
      migration: failed,
      vm: running,
      sourcePod: source,
      targetPod: target,
      source: srcRunning,
      target: unreachable,
    });
    expect(sure.actions).toEqual([{ kind: 'delete-pod', podName: 'tgt' }]);
  });
});

describe('decideMigrationAction: deletion and missing VM', () => {
  it('fails cleanly when the VM does not exist', () => {
    const d = decide({ migration: migrationFixture(), vm: undefined });
    expect(d.status.phase).toBe('Failed');
    expect(degraded(d)).toBe('VmNotFound');
  });

  it('removes the finalizer even if the VM is gone (upstream could not)', () => {
    const m = migrationFixture(withMigrationPhase('Running', { targetPodIP: '1.2.3.4' }), deleting());
    expect(kinds(decide({ migration: m, vm: undefined }))).toEqual(['remove-finalizer']);
  });

  it('deleting a Pending migration deletes the empty target pod and lets go (the VM returns to Running)', () => {
    const m = migrationFixture(withMigrationPhase('Pending'), deleting());
    const d = decide({
      migration: m,
      vm: preMigrating,
      targetPod: target,
      sourcePod: source,
      source: srcRunning,
      target: tgtListening,
    });
    expect(kinds(d)).toEqual(['delete-pod', 'remove-finalizer']);
  });

  it('deleting a migration whose guest is in the target finishes it instead', () => {
    const m = migrationFixture(withMigrationPhase('Running'), deleting());
    const d = decide({
      migration: m,
      vm: migrating,
      targetPod: target,
      sourcePod: source,
      source: srcHandedOff,
      target: tgtRunning,
    });
    expect(d.status.phase).toBe('Succeeded');
    expect(kinds(d)).toEqual(['adopt-target-pod']);
  });

  it('deleting a migration during post-copy waits for its end', () => {
    const m = migrationFixture(withMigrationPhase('Running'), deleting());
    const d = decide({
      migration: m,
      vm: migrating,
      targetPod: target,
      sourcePod: source,
      source: srcPostcopy,
      target: tgtPostcopy,
    });
    expect(kinds(d)).toEqual([]);
  });

  it('a deleted Succeeded migration keeps its finalizer until the VM has switched to the target', () => {
    const m = migrationFixture(withMigrationPhase('Succeeded', { targetPodIP: '10.244.2.7' }), deleting());
    expect(kinds(decide({ migration: m, vm: migrating, targetPod: target, sourcePod: source }))).toEqual([]);
    expect(kinds(decide({ migration: m, vm: switched, targetPod: target }))).toEqual(['remove-finalizer']);
  });
});
