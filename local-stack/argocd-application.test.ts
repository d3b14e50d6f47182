import {
  applicationSyncedAt,
  describeApplication,
  describeResource,
  resourceStatus,
  type ArgoApplication,
} from './argocd-application';

const SHA = '1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b';
const OTHER = 'ffffffffffffffffffffffffffffffffffffffff';

function app(status: ArgoApplication['status']): ArgoApplication {
  return { metadata: { name: 'neonvm-vms' }, status };
}

describe('describeApplication', () => {
  test('sync, health, revision and a successful last sync', () => {
    expect(
      describeApplication(
        app({
          sync: { status: 'Synced', revision: SHA },
          health: { status: 'Healthy' },
          operationState: { phase: 'Succeeded', message: 'successfully synced (all tasks run)' },
        }),
      ),
    ).toBe('neonvm-vms: Synced, Healthy (rev 1a2b3c4) -- last sync Succeeded');
  });

  test('a running sync says what it waits for; no status yet is Unknown', () => {
    expect(
      describeApplication(
        app({
          sync: { status: 'OutOfSync' },
          health: { status: 'Progressing', message: 'waiting' },
          operationState: { phase: 'Running', message: 'waiting for healthy state of apps/Deployment/x' },
        }),
      ),
    ).toBe(
      'neonvm-vms: OutOfSync, Progressing (waiting) -- last sync Running: waiting for healthy state of apps/Deployment/x',
    );
    expect(describeApplication(app(undefined))).toBe('neonvm-vms: Unknown, Unknown');
    expect(
      describeApplication(
        app({ sync: { status: 'OutOfSync' }, operationState: { phase: 'Running', message: '' } }),
      ),
    ).toBe('neonvm-vms: OutOfSync, Unknown -- last sync Running');
  });
});

describe('describeResource', () => {
  test('namespaced, with the health message our Lua check gives', () => {
    const a = app({
      resources: [
        {
          group: 'vm.neon.tech',
          kind: 'VirtualMachine',
          namespace: 'vms',
          name: 'example',
          status: 'Synced',
          health: { status: 'Healthy', message: 'Running on node neonvm-node-1' },
        },
        { kind: 'Namespace', name: 'vms', status: 'Synced' },
      ],
    });
    expect(describeResource(resourceStatus(a, 'VirtualMachine', 'example')!)).toBe(
      'VirtualMachine vms/example: Synced, Healthy (Running on node neonvm-node-1)',
    );
    expect(describeResource(resourceStatus(a, 'Namespace', 'vms')!)).toBe('Namespace vms: Synced');
  });
});

describe('applicationSyncedAt', () => {
  const synced = { sync: { status: 'Synced', revision: SHA }, health: { status: 'Healthy' } };

  test('Synced at the revision, with no operation for it (nothing to apply)', () => {
    expect(applicationSyncedAt(app(synced), SHA)).toBe(true);
    expect(applicationSyncedAt(app(synced), SHA, 'Healthy')).toBe(true);
    expect(applicationSyncedAt(app(synced), SHA, 'Degraded')).toBe(false);
    expect(applicationSyncedAt(app(synced), OTHER)).toBe(false);
  });

  test('an operation for the revision must have succeeded', () => {
    const op = (phase: string) => ({ phase, operation: { sync: { revision: SHA } } });
    expect(applicationSyncedAt(app({ ...synced, operationState: op('Running') }), SHA)).toBe(false);
    expect(applicationSyncedAt(app({ ...synced, operationState: op('Failed') }), SHA)).toBe(false);
    expect(applicationSyncedAt(app({ ...synced, operationState: op('Succeeded') }), SHA)).toBe(true);
    // The last operation was for an older commit: it says nothing about this one.
    expect(
      applicationSyncedAt(
        app({ ...synced, operationState: { phase: 'Failed', syncResult: { revision: OTHER } } }),
        SHA,
      ),
    ).toBe(true);
  });

  test('OutOfSync or no status is not synced', () => {
    expect(applicationSyncedAt(app({ sync: { status: 'OutOfSync', revision: SHA } }), SHA)).toBe(false);
    expect(applicationSyncedAt(app(undefined), SHA)).toBe(false);
  });
});
