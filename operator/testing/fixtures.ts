/**
 * Fixture builders for operator tests: a defaulted VM, pods in given states, migrations. Each builder
 * takes modifiers so tables read as "a VM with X, a pod with Y".
 */
import type { V1Pod } from '@kubernetes/client-node';
import {
  API_VERSION,
  FINALIZER,
  RUNNER_CONTAINER_NAME,
  defaultVirtualMachine,
  defaultVirtualMachineMigration,
  type VirtualMachine,
  type VirtualMachineMigration,
} from '../../crds';

export type Modifier<T> = (obj: T) => void;

export const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

export function vmFixture(...mods: Modifier<VirtualMachine>[]): VirtualMachine {
  const vm = defaultVirtualMachine({
    apiVersion: API_VERSION,
    kind: 'VirtualMachine',
    metadata: {
      name: 'vm1',
      namespace: 'default',
      uid: 'uid-vm1',
      generation: 1,
      resourceVersion: '10',
      finalizers: [FINALIZER],
    },
    spec: {
      cpuScalingMode: 'QmpScaling',
      guest: {
        cpus: { min: 1, max: 4, use: 1 },
        memorySlots: { min: 1, max: 4, use: 1 },
        rootDisk: { image: 'vm-debian:latest' },
      },
    },
  });
  for (const m of mods) m(vm);
  return vm;
}

export const withPhase =
  (
    phase: NonNullable<VirtualMachine['status']>['phase'],
    extra: VirtualMachine['status'] = {},
  ): Modifier<VirtualMachine> =>
  (vm) => {
    vm.status = {
      ...(vm.status ?? {}),
      conditions: [
        {
          type: 'Available',
          status: 'True',
          lastTransitionTime: '2026-01-01T00:00:00Z',
          reason: 'RunnerReady',
          message: '',
        },
      ],
      restartCount: 0,
      ...extra,
      phase,
    };
  };

export const withSpec =
  (patch: Partial<VirtualMachine['spec']>): Modifier<VirtualMachine> =>
  (vm) => {
    vm.spec = { ...vm.spec, ...patch };
  };

export type PodState = 'pending' | 'running-unready' | 'ready' | 'succeeded' | 'failed';

export function podFixture(name: string, state: PodState, mods: Modifier<V1Pod>[] = []): V1Pod {
  const phase = {
    pending: 'Pending',
    'running-unready': 'Running',
    ready: 'Running',
    succeeded: 'Succeeded',
    failed: 'Failed',
  }[state];
  const pod: V1Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'default',
      labels: { 'vm.neon.tech/name': 'vm1' },
      ownerReferences: [
        { apiVersion: API_VERSION, kind: 'VirtualMachine', name: 'vm1', uid: 'uid-vm1', controller: true },
      ],
    },
    spec: { nodeName: 'node-1', containers: [{ name: RUNNER_CONTAINER_NAME }] },
    status: {
      phase,
      podIP: state === 'pending' ? undefined : '10.244.1.5',
      containerStatuses:
        state === 'pending'
          ? []
          : [
              {
                name: RUNNER_CONTAINER_NAME,
                ready: state === 'ready',
                restartCount: 0,
                image: 'runner',
                imageID: '',
                state:
                  state === 'succeeded' || state === 'failed'
                    ? { terminated: { exitCode: state === 'failed' ? 1 : 0 } }
                    : { running: {} },
              },
            ],
    },
  };
  for (const m of mods) m(pod);
  return pod;
}

export function migrationFixture(...mods: Modifier<VirtualMachineMigration>[]): VirtualMachineMigration {
  const m = defaultVirtualMachineMigration({
    apiVersion: API_VERSION,
    kind: 'VirtualMachineMigration',
    metadata: {
      name: 'mig1',
      namespace: 'default',
      uid: 'uid-mig1',
      generation: 1,
      resourceVersion: '20',
      creationTimestamp: new Date(T0).toISOString(),
      finalizers: [FINALIZER],
      ownerReferences: [
        { apiVersion: API_VERSION, kind: 'VirtualMachine', name: 'vm1', uid: 'uid-vm1', controller: true },
      ],
    },
    spec: { vmName: 'vm1' },
  });
  for (const mod of mods) mod(m);
  return m;
}
