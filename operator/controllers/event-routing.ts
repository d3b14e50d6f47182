/**
 * Which controllers a watch event concerns. The informers hand every event to these functions, which
 * return the work-queue keys per controller: a VM event concerns the VM, its migrations and (with
 * spec.tls) its certificate; a migration event its VM (whose status follows it); a runner pod event
 * its VM and that VM's migrations; a spec.tls CertificateRequest event the VM it is for (Secrets are
 * not watched: see operator/tls/tls-provisioner.ts).
 */
import type { V1Pod } from '@kubernetes/client-node';
import {
  LABEL_TLS_FOR_VM,
  LABEL_VM_NAME,
  type VirtualMachine,
  type VirtualMachineMigration,
} from '../../crds';
import { objectKey, type KubeObject } from '../../kube';
import type { OperatorInformers } from '../informers';
import { CONDITION_CERTIFICATE_READY } from '../tls';

export interface RoutedKeys {
  readonly vm: readonly string[];
  readonly migration: readonly string[];
  readonly tls: readonly string[];
}

const vmKey = (namespace: string | undefined, vmName: string) =>
  objectKey({ metadata: { namespace, name: vmName } });
const none: readonly string[] = [];

/** `migrations`: the cached migrations in the object's namespace. */
export function keysForVm(vm: VirtualMachine, migrations: readonly VirtualMachineMigration[]): RoutedKeys {
  const key = objectKey(vm);
  const name = vm.metadata?.name;
  // The TLS controller also sees VMs that lost spec.tls but still carry its condition (to remove it).
  const tls = !!vm.spec.tls || !!vm.status?.conditions?.some((c) => c.type === CONDITION_CERTIFICATE_READY);
  return {
    vm: [key],
    migration: migrations.filter((m) => m.spec.vmName === name).map(objectKey),
    tls: tls ? [key] : none,
  };
}

export function keysForMigration(m: VirtualMachineMigration): RoutedKeys {
  return { vm: [vmKey(m.metadata?.namespace, m.spec.vmName)], migration: [objectKey(m)], tls: none };
}

export function keysForRunnerPod(pod: V1Pod, migrations: readonly VirtualMachineMigration[]): RoutedKeys {
  const vmName = pod.metadata?.labels?.[LABEL_VM_NAME];
  if (!vmName) return { vm: none, migration: none, tls: none };
  return {
    vm: [vmKey(pod.metadata?.namespace, vmName)],
    migration: migrations.filter((m) => m.spec.vmName === vmName).map(objectKey),
    tls: none,
  };
}

/** A spec.tls Secret or CertificateRequest: labelled with the VM it is for. */
export function keysForTlsObject(obj: KubeObject): RoutedKeys {
  const vmName = obj.metadata?.labels?.[LABEL_TLS_FOR_VM];
  return { vm: none, migration: none, tls: vmName ? [vmKey(obj.metadata?.namespace, vmName)] : none };
}

export interface Queues {
  readonly vm: { enqueue(key: string): void };
  readonly migration: { enqueue(key: string): void };
  readonly tls: { enqueue(key: string): void };
}

/** Connects the informers' events to the controllers' queues. */
export function routeEvents(i: OperatorInformers, queues: Queues): void {
  const send = (keys: RoutedKeys): void => {
    for (const key of keys.vm) queues.vm.enqueue(key);
    for (const key of keys.migration) queues.migration.enqueue(key);
    for (const key of keys.tls) queues.tls.enqueue(key);
  };
  i.vms.on((vm) => send(keysForVm(vm, i.migrations.list(vm.metadata?.namespace ?? ''))));
  i.migrations.on((m) => send(keysForMigration(m)));
  i.pods.on((pod) => send(keysForRunnerPod(pod, i.migrations.list(pod.metadata?.namespace ?? ''))));
  i.certificateRequests.on((request) => send(keysForTlsObject(request)));
  // TLS rounds that found the CertificateRequest watch not listed yet run again once it is.
  i.certificateRequests.onSynced(() => {
    for (const vm of i.vms.list()) if (vm.spec.tls) queues.tls.enqueue(objectKey(vm));
  });
}
