/**
 * Fixture builders for operator tests: pods in given states here; the VM and migration builders are
 * crds/testing's (one builder of stored objects for every component), re-exported under the names
 * these tests use. Each builder takes modifiers so tables read as "a VM with X, a pod with Y".
 */
import type { V1Pod } from '@kubernetes/client-node';
import { API_VERSION, RUNNER_CONTAINER_NAME } from '../../crds';
import type { Edit } from '../../crds/testing';
import { guestCustody } from '../../runner/api';
import type { QemuReport } from '../migration/guest-whereabouts';

export {
  T0,
  deleting,
  migrationFixture,
  vmFixture,
  withMigrationPhase,
  withPhase,
  withSpec,
} from '../../crds/testing';
export type Modifier<T> = Edit<T>;

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

/**
 * What a runner's `GET /qemu` reports: QEMU in `qemuStatus` with this QEMU's migration in `stream`
 * (custody derived as the runner does).
 */
export function qemuFixture(qemuStatus: string, stream = 'none'): QemuReport {
  return {
    custody: guestCustody({ qemuStatus, migrationStatus: stream }),
    qemuStatus,
    migration: { status: stream },
  };
}
