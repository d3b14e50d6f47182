/**
 * The VM's migration phases derived from its migrations' status. The migration reconciler writes only
 * VirtualMachineMigration.status; the VM reconciler — the one writer of VirtualMachine.status — reads
 * the migrations whose source is the VM's current pod and follows them (upstream's wire behaviour:
 * `PreMigrating` while the migration prepares, `Migrating` while it streams, then podName/podIP/node
 * switched to the target and `Running`).
 */
import type { VirtualMachine, VirtualMachineMigration, VirtualMachineStatus } from '../../crds';
import { CONDITION_DEGRADED, findCondition, isBeingDeleted } from '../controller-kit';
import { GUEST_LOST_REASONS } from '../migration/decide-migration-action';

export type VmMigrationState =
  /** No migration holds the VM: it runs (or returns to running) on its own pod. */
  | { readonly kind: 'none' }
  /** A migration is `Pending`: scaling stops (`PreMigrating`) before the target pod is made. */
  | { readonly kind: 'preparing'; readonly migration: string }
  /** A migration is `Running`: the source streams to the target (`Migrating`). */
  | { readonly kind: 'streaming'; readonly migration: string }
  /** A migration `Succeeded`: the target is the VM's runner now. */
  | {
      readonly kind: 'succeeded';
      readonly migration: string;
      readonly target: { readonly podName: string; readonly podIP?: string; readonly node?: string };
    }
  /**
   * A migration from the VM's pod failed and the guest did not survive it (post-copy with an end gone,
   * a target that ended after the handover): the VM fails, and its restart policy applies.
   */
  | { readonly kind: 'lost'; readonly migration: string; readonly message: string };

/**
 * The state of the migration whose source is the VM's current pod. A migration that is being deleted
 * before it succeeded no longer holds the VM (its reconciler cancels it); a succeeded one still
 * switches the VM (its finalizer waits for that).
 */
export function vmMigrationState(
  vm: VirtualMachine,
  migrations: readonly VirtualMachineMigration[],
): VmMigrationState {
  const podName = vm.status?.podName;
  if (!podName) return { kind: 'none' };
  const mine = migrations.filter(
    (m) => m.spec.vmName === vm.metadata?.name && m.status?.sourcePodName === podName,
  );
  const succeeded = mine.find((m) => m.status?.phase === 'Succeeded' && m.status.targetPodName);
  if (succeeded?.status?.targetPodName) {
    const { targetPodName, targetPodIP, targetNode } = succeeded.status;
    return {
      kind: 'succeeded',
      migration: succeeded.metadata?.name ?? '',
      target: {
        podName: targetPodName,
        ...(targetPodIP ? { podIP: targetPodIP } : {}),
        ...(targetNode ? { node: targetNode } : {}),
      },
    };
  }
  const lost = mine.find(
    (m) =>
      m.status?.phase === 'Failed' &&
      GUEST_LOST_REASONS.includes(findCondition(m.status.conditions, CONDITION_DEGRADED)?.reason ?? ''),
  );
  if (lost)
    return {
      kind: 'lost',
      migration: lost.metadata?.name ?? '',
      message: findCondition(lost.status?.conditions, CONDITION_DEGRADED)?.message ?? 'guest lost',
    };
  const live = mine.filter((m) => !isBeingDeleted(m));
  const streaming = live.find((m) => m.status?.phase === 'Running');
  if (streaming) return { kind: 'streaming', migration: streaming.metadata?.name ?? '' };
  const preparing = live.find((m) => m.status?.phase === 'Pending');
  if (preparing) return { kind: 'preparing', migration: preparing.metadata?.name ?? '' };
  return { kind: 'none' };
}

/** Whether the VM's phase is the migration's to drive (instead of the runner pod's). */
export function followsMigration(
  phase: VirtualMachineStatus['phase'] | '',
  state: VmMigrationState,
): boolean {
  if (state.kind === 'lost') return phase !== 'Failed' && phase !== 'Succeeded' && phase !== 'Pending';
  // Only a migration that is still preparing lets a Scaling VM finish its request first. Once the
  // stream runs or has completed, the source's runner refuses CPU and memory changes and its pod turns
  // NotReady (QEMU in postmigrate) or ends: judged as the VM's own runner, a Scaling VM would hang on
  // the refused change, or fail and restart while the target holds the guest.
  if (phase === 'Scaling') return state.kind === 'streaming' || state.kind === 'succeeded';
  return phase === 'PreMigrating' || phase === 'Migrating' || (phase === 'Running' && state.kind !== 'none');
}

/**
 * Applies the migration's state to the VM's status. A `Scaling` VM is not frozen mid-request: it
 * finishes scaling, returns to `Running`, and the next round moves it to `PreMigrating`.
 */
export function followMigration(status: VirtualMachineStatus, state: VmMigrationState): void {
  switch (state.kind) {
    case 'preparing':
      status.phase = 'PreMigrating';
      return;
    case 'streaming':
      status.phase = 'Migrating';
      return;
    case 'succeeded':
      status.podName = state.target.podName;
      if (state.target.podIP) status.podIP = state.target.podIP;
      else delete status.podIP;
      if (state.target.node) status.node = state.target.node;
      else delete status.node;
      status.phase = 'Running';
      return;
    case 'lost':
      // Never "Running" on a source that is paused for good: Failed, so the restart policy applies.
      status.phase = 'Failed';
      return;
    case 'none':
      // The migration failed, was deleted, or never got going: the VM runs on its pod as before.
      status.phase = 'Running';
      return;
  }
}
