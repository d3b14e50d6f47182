import type { MigrationInfo } from '../../crds';
import { T0, migrationFixture, podFixture, vmFixture, withPhase } from '../testing/fixtures';
import {
  decideMigrationAction,
  MIGRATION_POLL_MS,
  type MigrationObservation,
} from './decide-migration-action';

const running = vmFixture(withPhase('Running', { podName: 'src', podIP: '10.244.1.5', node: 'node-1' }));
const preMigrating = vmFixture(
  withPhase('PreMigrating', { podName: 'src', podIP: '10.244.1.5', node: 'node-1' }),
);
const migrating = vmFixture(withPhase('Migrating', { podName: 'src', podIP: '10.244.1.5', node: 'node-1' }));
const source = podFixture('src', 'ready');
const target = podFixture('tgt', 'running-unready', [
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
const phase = (p: 'Pending' | 'Running' | 'Succeeded' | 'Failed', extra = {}) =>
  migrationFixture((m) => {
    m.status = {
      phase: p,
      targetPodName: 'tgt',
      sourcePodName: 'src',
      sourcePodIP: '10.244.1.5',
      conditions: [
        {
          type: 'Available',
          status: 'Unknown',
          lastTransitionTime: '2026-01-01T00:00:00Z',
          reason: 'Reconciling',
          message: '',
        },
      ],
      ...extra,
    };
  });

function decide(partial: Partial<MigrationObservation> & Pick<MigrationObservation, 'migration'>) {
  return decideMigrationAction({ vm: running, newTargetPodName: 'vm1-tgt01', now: T0 + 1000, ...partial });
}
const kinds = (d: { actions: { kind: string }[] }) =>
  d.actions.map((a) => a.kind).filter((k) => k !== 'event');

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
    expect(d.status.conditions?.find((c) => c.type === 'Degraded')?.reason).toBe('MigrationFailed');
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
      targetRunner: { listening: false },
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
      targetRunner: { listening: true },
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
      targetPod: podFixture('tgt', state),
    });
    expect(d.status.phase).toBe('Failed');
    expect(d.status.conditions?.find((c) => c.type === 'Degraded')?.reason).toBe(reason);
    expect(kinds(d)).toEqual(['delete-pod']);
    expect(d.outcome).toEqual({ result: 'failed', reason });
  });

  it('enforces completionTimeout', () => {
    const d = decide({
      migration: phase('Pending'),
      vm: preMigrating,
      sourcePod: source,
      targetPod: target,
      now: T0 + 3_600_000,
    });
    expect(d.status.conditions?.find((c) => c.type === 'Degraded')?.reason).toBe('CompletionTimeout');
    expect(d.status.phase).toBe('Failed');
  });
});

describe('decideMigrationAction: Running', () => {
  const info = (status: string): MigrationInfo => ({
    status,
    totalTimeMs: 5,
    ram: { transferred: 1, remaining: 2, total: 3 },
  });
  const base = {
    migration: phase('Running', { targetPodIP: '10.244.2.7', targetNode: 'node-2' }),
    vm: migrating,
    sourcePod: source,
    targetPod: target,
  };

  it('tracks progress into status.info', () => {
    const d = decide({ ...base, progress: info('active') });
    expect(d.status.info).toEqual(info('active'));
    expect(d.requeueAfterMs).toBe(MIGRATION_POLL_MS);
  });

  it('on completion hands the target pod to the VM and succeeds (the VM controller switches the VM)', () => {
    const d = decide({ ...base, progress: info('completed') });
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

  it('deletes the source pod once Succeeded (after the VM switch was written), never the VM pod', () => {
    const succeeded = phase('Succeeded', { targetPodIP: '10.244.2.7' });
    const switched = vmFixture(withPhase('Running', { podName: 'tgt' }));
    expect(
      decide({ migration: succeeded, vm: switched, sourcePod: source, targetPod: target }).actions,
    ).toEqual([{ kind: 'delete-pod', podName: 'src' }]);
    expect(decide({ migration: succeeded, vm: switched, targetPod: target }).actions).toEqual([]);
    // Not before the VM points at the target.
    expect(decide({ migration: succeeded, vm: migrating, sourcePod: source }).actions).toEqual([]);
  });

  it('finishes (without adopting again) when the VM already runs in the target', () => {
    const switched = vmFixture(withPhase('Running', { podName: 'tgt' }));
    const d = decide({ ...base, vm: switched, sourcePod: undefined });
    expect(d.status.phase).toBe('Succeeded');
    expect(kinds(d)).toEqual([]);
  });

  it('QEMU failure -> Failed, the target is deleted and the source left running', () => {
    const d = decide({ ...base, progress: info('failed') });
    expect(d.status.phase).toBe('Failed');
    expect(kinds(d)).toEqual(['delete-pod']);
    expect(d.actions).toContainEqual({ kind: 'delete-pod', podName: 'tgt' });
  });

  it('target pod gone -> cancel on the source and fail', () => {
    const d = decide({ ...base, targetPod: undefined, progress: info('active') });
    expect(kinds(d)).toEqual(['cancel-migration']);
    expect(d.status.conditions?.find((c) => c.type === 'Degraded')?.reason).toBe('TargetPodDisappeared');
  });
});

describe('decideMigrationAction: deletion and missing VM', () => {
  it('fails cleanly when the VM does not exist', () => {
    const d = decide({ migration: migrationFixture(), vm: undefined });
    expect(d.status.phase).toBe('Failed');
    expect(d.status.conditions?.find((c) => c.type === 'Degraded')?.reason).toBe('VmNotFound');
  });

  it('removes the finalizer even if the VM is gone (upstream could not)', () => {
    const m = phase('Running', { targetPodIP: '1.2.3.4' });
    m.metadata!.deletionTimestamp = new Date(T0).toISOString();
    expect(kinds(decide({ migration: m, vm: undefined }))).toEqual(['remove-finalizer']);
  });

  it('deleting a Pending migration deletes the target pod and lets go (the VM returns to Running)', () => {
    const m = phase('Pending');
    m.metadata!.deletionTimestamp = new Date(T0).toISOString();
    const d = decide({ migration: m, vm: preMigrating, targetPod: target, sourcePod: source });
    expect(kinds(d)).toEqual(['delete-pod', 'remove-finalizer']);
  });

  it('a deleted Succeeded migration keeps its finalizer until the VM has switched to the target', () => {
    const m = phase('Succeeded', { targetPodIP: '10.244.2.7' });
    m.metadata!.deletionTimestamp = new Date(T0).toISOString();
    expect(kinds(decide({ migration: m, vm: migrating, targetPod: target, sourcePod: source }))).toEqual([]);
    const switched = vmFixture(withPhase('Running', { podName: 'tgt' }));
    expect(kinds(decide({ migration: m, vm: switched, targetPod: target }))).toEqual(['remove-finalizer']);
  });
});
