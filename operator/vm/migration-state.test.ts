import type { VirtualMachineMigration } from '../../crds';
import { T0, migrationFixture, vmFixture, withPhase } from '../testing/fixtures';
import { vmMigrationState, type VmMigrationState } from './migration-state';

const vm = vmFixture(withPhase('Running', { podName: 'p' }));
const mig = (
  name: string,
  status: NonNullable<VirtualMachineMigration['status']>,
  mod: (m: VirtualMachineMigration) => void = () => undefined,
) =>
  migrationFixture((m) => {
    m.metadata!.name = name;
    m.status = { targetPodName: `${name}-tgt`, ...status };
    mod(m);
  });
const deleted = (m: VirtualMachineMigration) => (m.metadata!.deletionTimestamp = new Date(T0).toISOString());

describe('vmMigrationState: which migration holds the VM', () => {
  const cases: Array<[string, VirtualMachineMigration[], VmMigrationState]> = [
    ['no migrations', [], { kind: 'none' }],
    ['a migration not started yet', [mig('a', {})], { kind: 'none' }],
    [
      'Pending from the VM pod',
      [mig('a', { phase: 'Pending', sourcePodName: 'p' })],
      { kind: 'preparing', migration: 'a' },
    ],
    [
      'Running from the VM pod',
      [mig('a', { phase: 'Running', sourcePodName: 'p' })],
      { kind: 'streaming', migration: 'a' },
    ],
    [
      'Succeeded from the VM pod',
      [mig('a', { phase: 'Succeeded', sourcePodName: 'p', targetPodIP: '10.0.0.2', targetNode: 'n2' })],
      { kind: 'succeeded', migration: 'a', target: { podName: 'a-tgt', podIP: '10.0.0.2', node: 'n2' } },
    ],
    [
      'Succeeded and being deleted still switches the VM',
      [mig('a', { phase: 'Succeeded', sourcePodName: 'p' }, deleted)],
      { kind: 'succeeded', migration: 'a', target: { podName: 'a-tgt' } },
    ],
    [
      'Running but being deleted lets go',
      [mig('a', { phase: 'Running', sourcePodName: 'p' }, deleted)],
      { kind: 'none' },
    ],
    ['Failed', [mig('a', { phase: 'Failed', sourcePodName: 'p' })], { kind: 'none' }],
    [
      'Failed with the guest lost (post-copy) fails the VM',
      [
        mig('a', {
          phase: 'Failed',
          sourcePodName: 'p',
          conditions: [
            {
              type: 'Degraded',
              status: 'True',
              reason: 'PostCopyFailed',
              message: 'guest lost: post-copy',
              lastTransitionTime: '2026-01-01T00:00:00Z',
            },
          ],
        }),
      ],
      { kind: 'lost', migration: 'a', message: 'guest lost: post-copy' },
    ],
    [
      'from an earlier pod of the VM',
      [mig('a', { phase: 'Succeeded', sourcePodName: 'old' })],
      { kind: 'none' },
    ],
    [
      'of another VM',
      [mig('a', { phase: 'Running', sourcePodName: 'p' }, (m) => (m.spec.vmName = 'other'))],
      { kind: 'none' },
    ],
    [
      'a success wins over a later attempt from the same pod',
      [
        mig('b', { phase: 'Pending', sourcePodName: 'p' }),
        mig('a', { phase: 'Succeeded', sourcePodName: 'p' }),
      ],
      { kind: 'succeeded', migration: 'a', target: { podName: 'a-tgt' } },
    ],
  ];
  it.each(cases)('%s', (_, migrations, want) => {
    expect(vmMigrationState(vm, migrations)).toEqual(want);
  });

  it('a VM without a pod has no migration', () => {
    const fresh = vmFixture(withPhase('Pending'));
    expect(vmMigrationState(fresh, [mig('a', { phase: 'Running', sourcePodName: 'p' })])).toEqual({
      kind: 'none',
    });
  });
});
