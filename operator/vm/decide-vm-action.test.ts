import type { V1Pod } from '@kubernetes/client-node';
import { FINALIZER } from '../../crds';
import type { VirtualMachineMigration } from '../../crds';
import {
  T0,
  migrationFixture,
  podFixture,
  vmFixture,
  withMigrationPhase,
  withPhase,
  withSpec,
} from '../testing/fixtures';
import { decideVmAction, type VmObservation } from './decide-vm-action';

function decide(partial: Partial<VmObservation> & Pick<VmObservation, 'vm'>) {
  return decideVmAction({
    migrations: [],
    newPodName: 'vm1-new',
    defaultCpuScalingMode: 'QmpScaling',
    now: T0,
    ...partial,
  });
}
const kinds = (d: { actions: { kind: string }[] }) =>
  d.actions.map((a) => a.kind).filter((k) => k !== 'event');

describe('decideVmAction: the first rounds (upstream §8.2 order, fewer round trips)', () => {
  it('adds the finalizer and the cpuScalingMode default, then goes Pending with podName, then creates the pod', () => {
    const fresh = vmFixture((vm) => {
      vm.metadata!.finalizers = [];
      delete vm.spec.cpuScalingMode;
    });
    expect(decide({ vm: fresh }).actions).toEqual([
      { kind: 'init-vm', addFinalizer: true, cpuScalingMode: 'QmpScaling' },
    ]);
    const withFin = vmFixture((vm) => delete vm.spec.cpuScalingMode);
    expect(decide({ vm: withFin }).actions).toEqual([
      { kind: 'init-vm', addFinalizer: false, cpuScalingMode: 'QmpScaling' },
    ]);
    const withMode = vmFixture((vm) => (vm.metadata!.finalizers = []));
    expect(decide({ vm: withMode }).actions).toEqual([{ kind: 'init-vm', addFinalizer: true }]);

    const r3 = decide({ vm: vmFixture() });
    // The pod's Secrets are started with this round, so the next one only creates the pod.
    expect(r3.actions).toEqual([{ kind: 'prepare-pod-secrets' }]);
    expect(r3.status.phase).toBe('Pending');
    // The pod's name is persisted with the phase, a round before the pod is made.
    expect(r3.status.podName).toBe('vm1-new');
    expect(r3.status.conditions).toMatchObject([{ type: 'Available', status: 'Unknown' }]);
    expect(r3.status.sshSecretName).toBe('ssh-neonvm-vm1');

    const r4 = decide({ vm: vmFixture((vm) => (vm.status = r3.status)) });
    expect(r4.actions).toEqual([{ kind: 'create-pod', podName: 'vm1-new' }]);
    expect(r4.status).toEqual(r3.status);
  });

  it('persists a new podName before making the pod after a restart too', () => {
    const restarted = vmFixture(withPhase('Pending', { restartCount: 1 }));
    const d = decide({ vm: restarted });
    expect(d.actions).toEqual([{ kind: 'prepare-pod-secrets' }]);
    expect(d.status.podName).toBe('vm1-new');
  });

  it('acquires an overlay IP on the way to Pending when extraNetwork is enabled', () => {
    const d = decide({ vm: vmFixture(withSpec({ extraNetwork: { enable: true, interface: 'net1' } })) });
    expect(kinds(d)).toEqual(['acquire-ip', 'prepare-pod-secrets']);
  });
});

describe('decideVmAction: spec.tls', () => {
  const tls = { certificateIssuer: 'ca', serverName: 'vm1.example', mountPath: '/var/tls' };
  const pending = vmFixture((vm) => {
    vm.spec.tls = tls;
    vm.status = { phase: 'Pending', podName: 'vm1-abcde' };
  });

  it('names the TLS Secret and creates the runner pod only once the first certificate is there', () => {
    const waiting = decide({ vm: pending, tls: { ready: false, waiting: 'issuer ca is not Ready' } });
    expect(waiting.actions).toEqual([]);
    expect(waiting.status.conditions).toContainEqual(
      expect.objectContaining({
        type: 'Available',
        reason: 'WaitingForCertificate',
        message: 'issuer ca is not Ready',
      }),
    );
    expect(waiting.status.tlsSecretName).toBe('tls-neonvm-vm1');
    expect(decide({ vm: pending, tls: { ready: true } }).actions).toEqual([
      { kind: 'create-pod', podName: 'vm1-abcde' },
    ]);
  });

  it('keeps a running VM going during renewal, Degraded with the reason while provisioning is stuck', () => {
    const running = vmFixture((vm) => {
      vm.spec.tls = tls;
      vm.status = { phase: 'Running', podName: 'vm1-abcde', tlsSecretName: 'tls-neonvm-vm1' };
    });
    const d = decide({
      vm: running,
      pod: podFixture('vm1-abcde', 'ready'),
      runner: { milliCpu: 1000, memorySlots: 1, memoryBytes: 1n << 30n, degraded: [] },
      tls: { ready: true, problem: 'CertificateRequest failed (Denied): no' },
    });
    expect(d.status.phase).toBe('Running');
    expect(d.status.conditions).toContainEqual(
      expect.objectContaining({ type: 'Degraded', status: 'True', reason: 'TlsProvisioningFailed' }),
    );
  });
});

describe('decideVmAction: Pending', () => {
  const pending = vmFixture(withPhase('Pending', { podName: 'vm1-abcde' }));
  const report = { milliCpu: 1000, memorySlots: 1, memoryBytes: 1n << 30n, degraded: [] };
  it.each([
    ['pending', 'Pending', undefined],
    ['running-unready', 'Pending', undefined],
    ['ready', 'Running', 'True'],
    ['succeeded', 'Succeeded', 'False'],
    ['failed', 'Failed', 'False'],
  ] as const)('pod %s -> phase %s', (state, phase, available) => {
    const d = decide({ vm: pending, pod: podFixture('vm1-abcde', state), runner: report });
    expect(d.status.phase).toBe(phase);
    expect(kinds(d)).toEqual(['sync-pod-metadata']);
    if (available) expect(d.status.conditions?.find((c) => c.type === 'Available')?.status).toBe(available);
  });

  it('stays Pending with a ready pod until the runner has answered (its answer brings a new round)', () => {
    const d = decide({ vm: pending, pod: podFixture('vm1-abcde', 'ready') });
    expect(d.status.phase).toBe('Pending');
    expect(d.requeueAfterMs).toBeUndefined();
  });

  it('records pod IP and node and exactly the Available condition once running', () => {
    const vm = vmFixture((v) => (v.status = { phase: 'Pending', podName: 'p', restartCount: 0 }));
    const d = decide({
      vm,
      pod: podFixture('p', 'ready'),
      runner: { milliCpu: 1000, memorySlots: 1, memoryBytes: 1n << 30n, degraded: [] },
    });
    expect(d.status).toMatchObject({
      phase: 'Running',
      podIP: '10.244.1.5',
      node: 'node-1',
      cpus: 1,
      memorySize: '1Gi',
    });
    expect(d.status.conditions?.map((c) => c.type)).toEqual(['Available']);
  });

  it('an image that cannot be pulled: Degraded naming the field, one Warning while the kubelet retries, cleared once running', () => {
    const vm = vmFixture(withPhase('Pending', { podName: 'p', restartCount: 0 }));
    const pulling = (reason: string, message: string) =>
      podFixture('p', 'pending', [
        (p) => {
          p.spec!.initContainers = [{ name: 'init', image: 'example.com/typo:1' }];
          p.status!.initContainerStatuses = [
            {
              name: 'init',
              image: 'example.com/typo:1',
              imageID: '',
              ready: false,
              restartCount: 0,
              state: { waiting: { reason, message } },
            },
          ];
        },
      ]);
    const why = 'image "example.com/typo:1" not found';
    const first = decide({ vm, pod: pulling('ErrImagePull', why) });
    expect(first.status.phase).toBe('Pending');
    const degraded = first.status.conditions?.find((c) => c.type === 'Degraded');
    expect(degraded).toMatchObject({
      status: 'True',
      reason: 'ImagePullFailed',
      message: `spec.guest.rootDisk.image: image "example.com/typo:1" cannot be pulled: ${why}`,
    });
    expect(first.actions).toContainEqual({
      kind: 'event',
      type: 'Warning',
      reason: 'ImagePullFailed',
      message: degraded!.message,
    });
    // The back-off that follows says the same: no second event, no status change.
    const again = decide({
      vm: { ...vm, status: first.status },
      pod: pulling('ImagePullBackOff', `Back-off pulling image "example.com/typo:1": ${why}`),
    });
    expect(again.actions.filter((a) => a.kind === 'event')).toEqual([]);
    expect(again.status).toEqual(first.status);
    const running = decide({
      vm: { ...vm, status: first.status },
      pod: podFixture('p', 'ready'),
      runner: { milliCpu: 1000, memorySlots: 1, memoryBytes: 1n << 30n, degraded: [] },
    });
    expect(running.status.phase).toBe('Running');
    expect(running.status.conditions?.find((c) => c.type === 'Degraded')?.status).toBe('False');
  });
});

describe('decideVmAction: Running and Scaling', () => {
  const running = vmFixture(withPhase('Running', { podName: 'p' }));
  const pod = podFixture('p', 'ready');
  const report = { milliCpu: 1000, memorySlots: 1, memoryBytes: 1n << 30n, degraded: [] };

  it('stays Running when the runner matches the spec, with cpus/memorySize from the runner', () => {
    const d = decide({ vm: running, pod, runner: report });
    expect(d.status).toMatchObject({ phase: 'Running', cpus: 1, memorySize: '1Gi' });
    expect(d.requeueAfterMs).toBeUndefined();
  });

  it('goes Scaling and asks the runner when cpus.use or memorySlots.use changed, without a timer', () => {
    const vm = vmFixture(withPhase('Running', { podName: 'p' }), (v) => {
      v.spec.guest.cpus!.use = '1500m';
      v.spec.guest.memorySlots!.use = 3;
    });
    const d = decide({ vm, pod, runner: report });
    expect(d.actions.filter((a) => a.kind.startsWith('set-'))).toEqual([
      { kind: 'set-cpu', milliCpu: 1500 },
      { kind: 'set-memory', slots: 3 },
    ]);
    expect(d.status.phase).toBe('Scaling');
    // The runner's answer (RunnerStates) brings the next round: nothing polls.
    expect(d.requeueAfterMs).toBeUndefined();
    const after = decide({
      vm: vmFixture(withPhase('Scaling', { podName: 'p' }), (v) => {
        v.spec.guest.cpus!.use = '1500m';
        v.spec.guest.memorySlots!.use = 3;
      }),
      pod,
      runner: { milliCpu: 1500, memorySlots: 3, memoryBytes: 3n << 30n, degraded: [] },
    });
    expect(after.status).toMatchObject({ phase: 'Running', cpus: '1500m', memorySize: '3Gi' });
  });

  it('marks Degraded on a runner error and clears it once the runner answers again', () => {
    const d1 = decide({ vm: running, pod, runner: { error: 'connection refused' } });
    expect(d1.status.conditions?.find((c) => c.type === 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'RunnerError',
    });
    expect(d1.requeueAfterMs).toBeGreaterThan(0);
    const d2 = decide({
      vm: vmFixture(
        withPhase('Running', { podName: 'p' }),
        (v) => (v.status!.conditions = d1.status.conditions),
      ),
      pod,
      runner: report,
    });
    expect(d2.status.conditions?.find((c) => c.type === 'Degraded')).toMatchObject({ status: 'False' });
  });

  it('a runner without parts of the spec: Degraded with its reasons and one Warning event, cleared once it has them', () => {
    const why =
      'spec.extraNetwork not attached: it needs tap networking (no /dev/net/tun, and no CAP_MKNOD to create it)';
    const d1 = decide({ vm: running, pod, runner: { ...report, degraded: [why] } });
    expect(d1.status.phase).toBe('Running');
    expect(d1.status.conditions?.find((c) => c.type === 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'RunnerDegraded',
      message: why,
    });
    expect(d1.actions).toContainEqual({
      kind: 'event',
      type: 'Warning',
      reason: 'RunnerDegraded',
      message: why,
    });
    const again = vmFixture(
      withPhase('Running', { podName: 'p' }),
      (v) => (v.status!.conditions = d1.status.conditions),
    );
    const d2 = decide({ vm: again, pod, runner: { ...report, degraded: [why] } });
    expect(d2.actions.filter((a) => a.kind === 'event')).toEqual([]);
    expect(d2.status.conditions).toEqual(d1.status.conditions);
    const d3 = decide({ vm: again, pod, runner: report });
    expect(d3.status.conditions?.find((c) => c.type === 'Degraded')).toMatchObject({ status: 'False' });
  });

  it('reports runner degradations on the first Running transition too, and while Scaling', () => {
    const pending = vmFixture((v) => (v.status = { phase: 'Pending', podName: 'p', restartCount: 0 }));
    const d = decide({ vm: pending, pod, runner: { ...report, degraded: ['a', 'b'] } });
    expect(d.status.conditions?.find((c) => c.type === 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'RunnerDegraded',
      message: 'a; b',
    });
    const vm = vmFixture(withPhase('Running', { podName: 'p' }), (v) => (v.spec.guest.cpus!.use = '1500m'));
    const scaling = decide({ vm, pod, runner: { ...report, degraded: ['a'] } });
    expect(scaling.status.phase).toBe('Scaling');
    expect(scaling.status.conditions?.find((c) => c.type === 'Degraded')?.reason).toBe('RunnerDegraded');
  });

  it('fails when the pod is gone or ended', () => {
    expect(decide({ vm: running }).status).toMatchObject({ phase: 'Failed' });
    expect(decide({ vm: running, pod: podFixture('p', 'failed') }).status.phase).toBe('Failed');
    expect(decide({ vm: running, pod: podFixture('p', 'succeeded') }).status.phase).toBe('Succeeded');
  });

  it('a pod stuck terminating (node unreachable) is not dead: the VM stays with its runner (#794)', () => {
    const stuck = podFixture('p', 'ready', [(p) => (p.metadata!.deletionTimestamp = new Date(T0 - 600_000))]);
    const d = decide({ vm: running, pod: stuck, runner: report });
    expect(d.status.phase).toBe('Running');
    expect(d.actions.filter((a) => a.kind === 'delete-pod' || a.kind === 'create-pod')).toEqual([]);
  });

  it('never Running on a paused source: QEMU handed the guest to a target that is gone -> Failed', () => {
    const paused = { ...report, qemuStatus: 'postmigrate' };
    const d = decide({ vm: running, pod, runner: paused });
    expect(d.status.phase).toBe('Failed');
    expect(d.status.conditions?.find((c) => c.type === 'Degraded')?.reason).toBe('GuestLost');
    // While a migration target still runs, the migration controller settles where the guest is.
    expect(decide({ vm: running, pod, runner: paused, migrationTargetAlive: true }).status.phase).toBe(
      'Running',
    );
  });

  it('never Running on a paused source, also while its pod is not Ready (as a handed-off source stays)', () => {
    const paused = { ...report, qemuStatus: 'postmigrate' };
    const unready = podFixture('p', 'running-unready');
    const d = decide({ vm: running, pod: unready, runner: paused });
    expect(d.status.phase).toBe('Failed');
    expect(d.status.conditions?.find((c) => c.type === 'Degraded')?.reason).toBe('GuestLost');
    // Not Ready for another reason (the guest rebooting): unchanged, as before.
    expect(decide({ vm: running, pod: unready, runner: report }).status.phase).toBe('Running');
    expect(decide({ vm: running, pod: unready, runner: { error: 'connection refused' } }).status.phase).toBe(
      'Running',
    );
    expect(
      decide({ vm: running, pod: unready, runner: paused, migrationTargetAlive: true }).status.phase,
    ).toBe('Running');
  });

  it('propagates targetRevision into currentRevision when Running', () => {
    const vm = vmFixture(
      withPhase('Running', { podName: 'p' }),
      withSpec({ targetRevision: { revision: { value: 7, flags: 1 }, updatedAt: '2026-01-01T00:00:00Z' } }),
    );
    expect(decide({ vm, pod, runner: report }).status.currentRevision).toEqual({
      revision: { value: 7, flags: 1 },
      updatedAt: '2026-01-01T12:00:00Z',
    });
  });
});

describe('decideVmAction: restart policy', () => {
  it.each([
    ['Always', 'Succeeded', true],
    ['Always', 'Failed', true],
    ['OnFailure', 'Succeeded', false],
    ['OnFailure', 'Failed', true],
    ['Never', 'Failed', false],
  ] as const)('%s after %s restarts=%s', (policy, phase, restarts) => {
    const vm = vmFixture(
      withPhase(phase, { podName: 'p', podIP: '1.2.3.4', restartCount: 2 }),
      withSpec({ restartPolicy: policy }),
    );
    const longRun = (p: V1Pod) => (p.metadata!.creationTimestamp = new Date(T0 - 3_600_000));
    const withPod = decide({
      vm,
      pod: podFixture('p', phase === 'Failed' ? 'failed' : 'succeeded', [longRun]),
    });
    expect(withPod.actions).toEqual([{ kind: 'delete-pod', podName: 'p' }]);
    expect(withPod.status.phase).toBe(phase);

    const gone = decide({ vm });
    expect(gone.status.podName).toBeUndefined();
    expect(gone.status.podIP).toBeUndefined();
    expect(gone.status.phase).toBe(restarts ? 'Pending' : phase);
    expect(gone.status.restartCount).toBe(restarts ? 3 : 2);
  });

  it('waits while a terminating runner may still run (never two runners), not when it has ended', () => {
    const vm = vmFixture(withPhase('Failed', { podName: 'p' }));
    const deleting = (state: 'ready' | 'failed', agoMs: number) =>
      podFixture('p', state, [(p) => (p.metadata!.deletionTimestamp = new Date(T0 - agoMs))]);
    const waiting = decide({ vm, pod: deleting('ready', 1_000) });
    expect(waiting.actions).toEqual([]);
    expect(waiting.status.phase).toBe('Failed');
    expect(decide({ vm, pod: deleting('failed', 1_000) }).status.phase).toBe('Pending');
    // Upstream gave up after 5 s; on a partitioned node the old QEMU may still run: keep waiting.
    expect(decide({ vm, pod: deleting('ready', 3_600_000) }).status.phase).toBe('Failed');
    // The pod object removed (kubelet, force delete, pod GC after the Node was deleted): gone.
    expect(decide({ vm, pod: undefined }).status.phase).toBe('Pending');
  });
});

describe('decideVmAction: crash-loop back-off', () => {
  const ended = (createdAgoMs: number, finishedAgoMs: number) =>
    podFixture('p', 'failed', [
      (p) => {
        p.metadata!.creationTimestamp = new Date(T0 - createdAgoMs);
        p.status!.containerStatuses![0].state = {
          terminated: { exitCode: 1, finishedAt: new Date(T0 - finishedAgoMs) },
        };
      },
    ]);
  const vm = (restartCount: number) => vmFixture(withPhase('Failed', { podName: 'p', restartCount }));

  it('restarts at once the first time, then waits 10 s doubling (capped at 5 min) after short runs', () => {
    expect(kinds(decide({ vm: vm(0), pod: ended(3_000, 1_000) }))).toEqual(['delete-pod']);
    const second = decide({ vm: vm(1), pod: ended(3_000, 1_000) });
    expect(second.actions).toEqual([]);
    expect(second.requeueAfterMs).toBe(9_000);
    expect(decide({ vm: vm(3), pod: ended(5_000, 1_000) }).requeueAfterMs).toBe(39_000);
    expect(decide({ vm: vm(30), pod: ended(5_000, 0) }).requeueAfterMs).toBe(300_000);
    expect(kinds(decide({ vm: vm(1), pod: ended(20_000, 11_000) }))).toEqual(['delete-pod']);
  });

  it('a runner still running when the VM failed (guest lost in a migration) backs off from the failure, then goes', () => {
    const failedAt = new Date(T0 - 4_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const lost = vmFixture(
      withPhase('Failed', {
        podName: 'p',
        restartCount: 1,
        conditions: [
          {
            type: 'Available',
            status: 'False',
            reason: 'GuestLost',
            message: 'guest lost',
            lastTransitionTime: failedAt,
          },
        ],
      }),
    );
    // The paused post-copy source: its container never ends by itself.
    const paused = podFixture('p', 'running-unready', [
      (p) => (p.metadata!.creationTimestamp = new Date(T0 - 60_000)),
    ]);
    const soon = decide({ vm: lost, pod: paused });
    expect(soon.actions).toEqual([]);
    expect(soon.requeueAfterMs).toBe(6_000);
    // Before, the run counted to "now" on every round: 10 s remained forever and the VM never restarted.
    expect(kinds(decide({ vm: lost, pod: paused, now: T0 + 6_000 }))).toEqual(['delete-pod']);
  });

  it('does not back off after a long run, nor when the VM will not restart', () => {
    expect(kinds(decide({ vm: vm(5), pod: ended(3_600_000, 1_000) }))).toEqual(['delete-pod']);
    const never = vmFixture(
      withPhase('Failed', { podName: 'p', restartCount: 5 }),
      withSpec({ restartPolicy: 'Never' }),
    );
    expect(kinds(decide({ vm: never, pod: ended(3_000, 1_000) }))).toEqual(['delete-pod']);
  });
});

describe('decideVmAction: deletion and migration phases', () => {
  it('releases the overlay IP then removes the finalizer', () => {
    const vm = vmFixture(
      withPhase('Running', { podName: 'p', extraNetIP: '10.100.128.0' }),
      (v) => (v.metadata!.deletionTimestamp = new Date(T0).toISOString()),
    );
    expect(kinds(decide({ vm }))).toEqual(['release-ip', 'remove-finalizer']);
    const noFinalizer = vmFixture((v) => {
      v.metadata!.deletionTimestamp = new Date(T0).toISOString();
      v.metadata!.finalizers = ['other'];
    });
    expect(decide({ vm: noFinalizer }).actions).toEqual([]);
    expect(FINALIZER).toBe('vm.neon.tech/finalizer');
  });

  it('follows its migrations: PreMigrating, Migrating, switched to the target, back to Running', () => {
    const mig = (phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed', deleted = false) =>
      migrationFixture((m) => {
        m.status = {
          phase,
          sourcePodName: 'p',
          targetPodName: 'tgt',
          targetPodIP: '10.244.2.7',
          targetNode: 'node-2',
        };
        if (deleted) m.metadata!.deletionTimestamp = new Date(T0).toISOString();
      });
    const at = (phase: 'Running' | 'Scaling' | 'PreMigrating' | 'Migrating') =>
      vmFixture(withPhase(phase, { podName: 'p', podIP: '10.244.1.5', node: 'node-1' }));
    const cases: Array<[string, ReturnType<typeof at>, VirtualMachineMigration[], object]> = [
      [
        'Running, migration Pending',
        at('Running'),
        [mig('Pending')],
        { phase: 'PreMigrating', podName: 'p' },
      ],
      ['PreMigrating, migration Running', at('PreMigrating'), [mig('Running')], { phase: 'Migrating' }],
      ['Running, migration already Running', at('Running'), [mig('Running')], { phase: 'Migrating' }],
      [
        'Migrating, migration Succeeded',
        at('Migrating'),
        [mig('Succeeded')],
        { phase: 'Running', podName: 'tgt', podIP: '10.244.2.7', node: 'node-2' },
      ],
      [
        'PreMigrating, migration Succeeded (Running never seen)',
        at('PreMigrating'),
        [mig('Succeeded')],
        { phase: 'Running', podName: 'tgt' },
      ],
      ['Migrating, migration Failed', at('Migrating'), [mig('Failed')], { phase: 'Running', podName: 'p' }],
      ['PreMigrating, migration deleted', at('PreMigrating'), [mig('Pending', true)], { phase: 'Running' }],
      ['Migrating, no migration left', at('Migrating'), [], { phase: 'Running', podName: 'p' }],
    ];
    for (const [name, vm, migrations, want] of cases) {
      const d = decide({ vm, migrations, pod: podFixture('p', 'succeeded') });
      expect({ name, status: d.status }).toEqual({ name, status: expect.objectContaining(want) });
      // The pod belongs to the migration meanwhile: no restart, no scaling, no pod actions.
      expect({ name, actions: kinds(d) }).toEqual({ name, actions: [] });
    }
  });

  it('a scaling VM finishes its request before it freezes for a Pending migration', () => {
    const vm = vmFixture(withSpec({}), withPhase('Scaling', { podName: 'p' }));
    const pending = migrationFixture((m) => (m.status = { phase: 'Pending', sourcePodName: 'p' }));
    const d = decide({
      vm,
      migrations: [pending],
      pod: podFixture('p', 'ready'),
      runner: { milliCpu: 2000, memorySlots: 1, memoryBytes: 1n << 30n, degraded: [] },
    });
    expect(d.status.phase).toBe('Scaling');
    expect(kinds(d)).toEqual(['sync-pod-metadata', 'set-cpu']);
  });
});

describe('decideVmAction: a migration that lost the guest', () => {
  const lostMigration = migrationFixture(
    withMigrationPhase('Failed', {
      sourcePodName: 'p',
      conditions: [
        {
          type: 'Degraded',
          status: 'True',
          reason: 'PostCopyFailed',
          message: 'guest lost: post-copy: the target ended while the guest was split between both',
          lastTransitionTime: '2026-01-01T00:00:00Z',
        },
      ],
    }),
  );
  it('fails the VM (never Running on the paused source), then restarts it by its policy', () => {
    const migrating = vmFixture(withPhase('Migrating', { podName: 'p', restartCount: 0 }));
    const source = podFixture('p', 'ready');
    const d1 = decide({ vm: migrating, pod: source, migrations: [lostMigration] });
    expect(d1.status.phase).toBe('Failed');
    expect(d1.status.conditions?.find((c) => c.type === 'Available')?.reason).toBe('GuestLost');
    const failed = vmFixture(withPhase('Failed', { podName: 'p', restartCount: 0 }));
    expect(kinds(decide({ vm: failed, pod: source, migrations: [lostMigration] }))).toEqual(['delete-pod']);
    const d3 = decide({ vm: failed, pod: undefined, migrations: [lostMigration] });
    expect(d3.status).toMatchObject({ phase: 'Pending', restartCount: 1 });
    expect(d3.status.podName).toBeUndefined();
  });
});

describe('decideVmAction: the podName switch after a fast migration is refused for a while', () => {
  // The fault suite's sequence: the migration Succeeded (src → tgt); the VM's status write that switches
  // podName is refused for 20 s; meanwhile the source's QEMU sits in postmigrate (its pod turns
  // NotReady), and a source runner that exits after the handover (older runners, the fake one) leaves
  // its pod Succeeded — or the pod is gone. Every retry must decide the same switch, never a restart.
  const succeeded = migrationFixture(
    withMigrationPhase('Succeeded', { targetPodIP: '10.244.2.7', targetNode: 'node-2' }),
  );
  // The first attempt in the fault suite ran into a Failed migration from the same pod (target killed).
  const earlierFailure = migrationFixture(
    (m) => (m.metadata!.name = 'mig0'),
    withMigrationPhase('Failed', {
      targetPodName: 'tgt0',
      conditions: [
        {
          type: 'Degraded',
          status: 'True',
          reason: 'TargetPodFailed',
          message: 'Target Pod (tgt0) failed: exit code 137',
          lastTransitionTime: '2026-01-01T00:00:00Z',
        },
      ],
    }),
  );
  const postmigrate = {
    milliCpu: 1000,
    memorySlots: 1,
    memoryBytes: 1n << 30n,
    degraded: [],
    qemuStatus: 'postmigrate',
  };
  const sources: Array<[string, V1Pod | undefined]> = [
    ['ready', podFixture('src', 'ready')],
    ['NotReady (QEMU postmigrate)', podFixture('src', 'running-unready')],
    ['Succeeded (runner exited after the handover)', podFixture('src', 'succeeded')],
    ['Failed', podFixture('src', 'failed')],
    ['gone', undefined],
  ];
  const phases = ['PreMigrating', 'Migrating', 'Running', 'Scaling'] as const;

  it.each(phases.flatMap((phase) => sources.map(([desc, pod]) => [phase, desc, pod] as const)))(
    'VM %s on the source, source pod %s: switches to the target, nothing deleted or restarted',
    (phase, _desc, pod) => {
      const vm = vmFixture(
        withPhase(phase, { podName: 'src', podIP: '10.244.1.5', node: 'node-1', restartCount: 0 }),
      );
      const obs = { vm, pod, migrations: [earlierFailure, succeeded], runner: postmigrate };
      const d = decide(obs);
      expect(d.status).toMatchObject({
        phase: 'Running',
        podName: 'tgt',
        podIP: '10.244.2.7',
        node: 'node-2',
        restartCount: 0,
      });
      expect(d.actions).toEqual([]);
      // A retry (the write was refused: the stored VM is unchanged) decides exactly the same.
      expect(decide(obs)).toEqual(d);
    },
  );

  it('once the switch is stored: Running on the target, the source left to the migration controller', () => {
    const vm = vmFixture(withPhase('Running', { podName: 'tgt', podIP: '10.244.2.7', node: 'node-2' }));
    const tgt = podFixture('tgt', 'ready', [(p) => (p.status!.podIP = '10.244.2.7')]);
    const report = {
      milliCpu: 1000,
      memorySlots: 1,
      memoryBytes: 1n << 30n,
      degraded: [],
      qemuStatus: 'running',
    };
    const d = decide({ vm, pod: tgt, migrations: [earlierFailure, succeeded], runner: report });
    expect(d.status).toMatchObject({ phase: 'Running', podName: 'tgt' });
    expect(kinds(d)).toEqual(['sync-pod-metadata']);
  });
});
