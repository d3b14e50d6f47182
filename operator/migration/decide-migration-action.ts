/**
 * The VirtualMachineMigration machine as a pure function (upstream §3.9, with its holes fixed): the VM
 * moves to Migrating only after the source runner accepted the migration (#1427); completionTimeout,
 * nodeSelector and nodeAffinity are honoured; any failure cancels on the source and leaves the VM
 * Running there; a migration whose VM is gone fails and can always be deleted.
 *
 * It writes only the migration's status. The VM reconciler derives the VM's phases from it
 * (`vm/migration-state.ts`): Pending → VM PreMigrating (scaling stops), Running → Migrating,
 * Succeeded → the VM switches to the target pod; Failed or deleted → Running on the source. So this
 * machine waits for the VM to show PreMigrating before it makes the target pod, and deletes the source
 * pod only once the VM points at the target.
 */
import type { V1Pod } from '@kubernetes/client-node';
import {
  FINALIZER,
  type MigrationInfo,
  type VirtualMachine,
  type VirtualMachineMigration,
  type VirtualMachineMigrationStatus,
} from '../../crds';
import {
  CONDITION_AVAILABLE,
  CONDITION_DEGRADED,
  Reasons,
  hasFinalizer,
  isBeingDeleted,
  setCondition,
  type ConditionUpdate,
  type Reason,
} from '../controller-kit';
import { podTerminationMessage, runnerPodPhase } from '../pod/runner-pod-status';

export interface TargetRunnerReport {
  /** The target QEMU waits for the stream (`migrationRole: target`, `qemuStatus: inmigrate`). */
  readonly listening: boolean;
}

export type SourceProgress = MigrationInfo | { readonly error: string };

export interface MigrationObservation {
  /** A defaulted migration. */
  readonly migration: VirtualMachineMigration;
  /** Undefined when the VM does not exist. */
  readonly vm?: VirtualMachine;
  /**
   * Every migration of the same VM (this one included): they take turns, oldest first, so that two
   * of them never hold the VM at once.
   */
  readonly vmMigrations?: readonly VirtualMachineMigration[];
  readonly targetPod?: V1Pod;
  readonly sourcePod?: V1Pod;
  /** Gathered only while Pending with the target pod running. */
  readonly targetRunner?: TargetRunnerReport | { readonly error: string };
  /** Gathered only while Running: the source runner's `GET /migration`. */
  readonly progress?: SourceProgress;
  readonly newTargetPodName: string;
  readonly now: number;
}

export type MigrationAction =
  | { readonly kind: 'add-finalizer' }
  | { readonly kind: 'remove-finalizer' }
  | { readonly kind: 'set-owner' }
  | { readonly kind: 'create-target-pod' }
  | { readonly kind: 'start-migration' }
  | { readonly kind: 'cancel-migration' }
  /** Make the VM the only (controller) owner of the target pod: it is the VM's runner now. */
  | { readonly kind: 'adopt-target-pod' }
  | { readonly kind: 'delete-pod'; readonly podName: string }
  | {
      readonly kind: 'event';
      readonly type: 'Normal' | 'Warning';
      readonly reason: string;
      readonly message: string;
    };

export interface MigrationDecision {
  readonly actions: MigrationAction[];
  readonly status: VirtualMachineMigrationStatus;
  readonly requeueAfterMs?: number;
  /** Set when this round finished the migration (for metrics). */
  readonly outcome?: { readonly result: 'succeeded' | 'failed'; readonly reason: string };
}

/** `: exit code 1 (Error)` for an ended pod, else empty. */
function why(pod: V1Pod | undefined): string {
  const message = pod ? podTerminationMessage(pod) : '';
  return message ? `: ${message}` : '';
}

/** Poll period while waiting for runner-side state (target QEMU listening, stream progress). */
export const MIGRATION_POLL_MS = 1_000;

export function decideMigrationAction(obs: MigrationObservation): MigrationDecision {
  const { migration: m, vm } = obs;
  const actions: MigrationAction[] = [];
  const status: VirtualMachineMigrationStatus = structuredClone(m.status ?? {});
  let outcome: MigrationDecision['outcome'];
  const now = new Date(obs.now);
  const condition = (u: ConditionUpdate): void => {
    status.conditions = setCondition(status.conditions, u, now, m.metadata?.generation);
  };
  const done = (requeueAfterMs?: number): MigrationDecision => ({
    actions,
    status,
    ...(requeueAfterMs === undefined ? {} : { requeueAfterMs }),
    ...(outcome ? { outcome } : {}),
  });
  const vmName = m.spec.vmName;
  const targetName = status.targetPodName;
  const targetIsVmPod = !!targetName && vm?.status?.podName === targetName;

  const fail = (reason: Reason, message: string, cancel: boolean): MigrationDecision => {
    if (cancel) actions.push({ kind: 'cancel-migration' });
    if (obs.targetPod && targetName && !targetIsVmPod)
      actions.push({ kind: 'delete-pod', podName: targetName });
    status.phase = 'Failed';
    condition({ type: CONDITION_DEGRADED, status: 'True', reason, message });
    condition({ type: CONDITION_AVAILABLE, status: 'False', reason, message });
    actions.push({ kind: 'event', type: 'Warning', reason: 'MigrationFailed', message });
    outcome = { result: 'failed', reason };
    return done();
  };
  const succeed = (): MigrationDecision => {
    outcome = { result: 'succeeded', reason: Reasons.MigrationSucceeded };
    return complete({ obs, status, actions, condition, done, adoptTarget: !targetIsVmPod });
  };

  if (isBeingDeleted(m)) {
    if (!hasFinalizer(m, FINALIZER)) return done();
    const unfinished = status.phase !== 'Succeeded' && status.phase !== 'Failed';
    if (unfinished && vm) {
      if (status.phase === 'Running') actions.push({ kind: 'cancel-migration' });
      if (obs.targetPod && targetName && !targetIsVmPod)
        actions.push({ kind: 'delete-pod', podName: targetName });
    }
    // A succeeded migration tells the VM controller to switch the VM to the target: it stays until the
    // VM has switched (the VM's event requeues it), or the VM would be left on the drained source.
    if (status.phase === 'Succeeded' && vm && vm.status?.podName === status.sourcePodName) return done();
    actions.push({ kind: 'remove-finalizer' });
    return done();
  }
  if (!hasFinalizer(m, FINALIZER)) {
    actions.push({ kind: 'add-finalizer' });
    return done();
  }
  if (status.phase === 'Succeeded' || status.phase === 'Failed') {
    return finish(obs, status, actions, done);
  }
  if (!vm) {
    return fail(Reasons.VmNotFound, `VM (${vmName}) not found`, false);
  }
  const controller = m.metadata?.ownerReferences?.find((r) => r.controller);
  if (!controller || controller.uid !== vm.metadata?.uid) {
    actions.push({ kind: 'set-owner' });
    return done();
  }
  if (!status.conditions || status.conditions.length === 0) {
    condition({
      type: CONDITION_AVAILABLE,
      status: 'Unknown',
      reason: Reasons.Reconciling,
      message: 'Starting reconciliation',
    });
  }

  // completionTimeout counts from the migration's creation and covers every phase before the end.
  const timeoutMs = (m.spec.completionTimeout ?? 0) * 1000;
  const created = m.metadata?.creationTimestamp ? new Date(m.metadata.creationTimestamp).getTime() : obs.now;
  const deadline = created + timeoutMs;
  if (timeoutMs > 0 && obs.now >= deadline) {
    return fail(
      Reasons.CompletionTimeout,
      `migration did not complete within ${m.spec.completionTimeout}s`,
      status.phase === 'Running',
    );
  }
  const untilDeadline = timeoutMs > 0 ? deadline - obs.now : undefined;
  const wait = (ms?: number): MigrationDecision => {
    const candidates = [ms, untilDeadline].filter((x): x is number => x !== undefined);
    return done(candidates.length > 0 ? Math.min(...candidates) : undefined);
  };

  if (!targetName) {
    status.targetPodName = obs.newTargetPodName;
    return done();
  }

  switch (status.phase ?? '') {
    case '': {
      // Wait (for VM and migration events) until the VM runs and every older migration of it has
      // finished: one migration holds a VM at a time.
      if (vm.status?.phase !== 'Running' || !firstInLine(m, obs.vmMigrations ?? [m])) return wait();
      status.phase = 'Pending';
      status.sourcePodName = vm.status.podName;
      status.sourcePodIP = vm.status.podIP;
      status.sourceNode = vm.status.node;
      return done();
    }
    case 'Pending': {
      if (vm.status?.podName !== status.sourcePodName)
        return fail(
          Reasons.MigrationFailed,
          `VM (${vmName}) no longer runs in source Pod (${status.sourcePodName})`,
          false,
        );
      const vmPhase = vm.status?.phase;
      // The VM controller stops scaling (PreMigrating) on seeing this Pending; a scaling VM first
      // finishes its request. The target pod is made only then, with the CPUs the source has plugged.
      if (vmPhase === 'Running' || vmPhase === 'Scaling') return wait();
      if (vmPhase !== 'PreMigrating')
        return fail(
          Reasons.MigrationFailed,
          `VM (${vmName}) left Running before the migration started (now ${vmPhase ?? ''})`,
          false,
        );
      if (!obs.sourcePod || runnerPodPhase(obs.sourcePod, obs.now) !== 'running') {
        return fail(Reasons.MigrationFailed, `source Pod (${status.sourcePodName}) is not running`, false);
      }
      if (!obs.targetPod) {
        actions.push({ kind: 'create-target-pod' });
        return wait();
      }
      const targetPhase = runnerPodPhase(obs.targetPod, obs.now);
      if (targetPhase === 'succeeded')
        return fail(
          Reasons.TargetPodFailed,
          `Target Pod (${targetName}) completed suddenly${why(obs.targetPod)}`,
          false,
        );
      if (targetPhase === 'failed')
        return fail(Reasons.TargetPodFailed, `Target Pod (${targetName}) failed${why(obs.targetPod)}`, false);
      if (targetPhase === 'pending') return wait();
      status.targetPodIP = obs.targetPod.status?.podIP;
      status.targetNode = obs.targetPod.spec?.nodeName;
      if (!obs.targetRunner || 'error' in obs.targetRunner || !obs.targetRunner.listening)
        return wait(MIGRATION_POLL_MS);
      actions.push({ kind: 'start-migration' });
      // Only reached when start-migration succeeded (the reconciler stops at a failed action); the VM
      // follows to Migrating from this status.
      status.phase = 'Running';
      condition({
        type: CONDITION_AVAILABLE,
        status: 'True',
        reason: Reasons.MigrationStarted,
        message: `Migration was started to target runner (${targetName})`,
      });
      actions.push({
        kind: 'event',
        type: 'Normal',
        reason: 'MigrationStarted',
        message: `migrating ${vmName} from ${status.sourcePodName} to ${targetName}`,
      });
      return wait(MIGRATION_POLL_MS);
    }
    case 'Running': {
      // The VM already runs in the target (switched by an operator that wrote the VM first).
      if (targetIsVmPod) return succeed();
      if (!obs.targetPod)
        return fail(Reasons.TargetPodDisappeared, `Target Pod (${targetName}) disappeared`, true);
      const targetPhase = runnerPodPhase(obs.targetPod, obs.now);
      if (targetPhase === 'failed' || targetPhase === 'succeeded')
        return fail(
          Reasons.TargetPodFailed,
          `Target Pod (${targetName}) ${targetPhase === 'failed' ? 'failed' : 'completed suddenly'}${why(obs.targetPod)}`,
          true,
        );
      const progress = obs.progress;
      if (!progress || 'error' in progress) {
        if (!obs.sourcePod || runnerPodPhase(obs.sourcePod, obs.now) === 'failed') {
          return fail(
            Reasons.MigrationFailed,
            `source Pod (${status.sourcePodName}) failed during migration`,
            false,
          );
        }
        return wait(MIGRATION_POLL_MS);
      }
      status.info = progress;
      if (progress.status === 'completed') return succeed();
      if (progress.status === 'failed' || progress.status === 'cancelled') {
        return fail(Reasons.MigrationFailed, `QEMU migration ${progress.status}`, false);
      }
      return wait(MIGRATION_POLL_MS);
    }
    default:
      return done();
  }
}

/** Oldest first (creation time, then name): the migration that may take the VM next. */
function firstInLine(m: VirtualMachineMigration, all: readonly VirtualMachineMigration[]): boolean {
  const unfinished = all.filter(
    (x) => x.spec.vmName === m.spec.vmName && x.status?.phase !== 'Succeeded' && x.status?.phase !== 'Failed',
  );
  const order = (x: VirtualMachineMigration): [number, string] => [
    x.metadata?.creationTimestamp ? new Date(x.metadata.creationTimestamp).getTime() : 0,
    x.metadata?.name ?? '',
  ];
  const first = unfinished.reduce<VirtualMachineMigration | undefined>((best, x) => {
    if (!best) return x;
    const [a, an] = order(x);
    const [b, bn] = order(best);
    return a < b || (a === b && an < bn) ? x : best;
  }, undefined);
  return !first || first.metadata?.name === m.metadata?.name;
}

interface CompleteOptions {
  readonly obs: MigrationObservation;
  readonly status: VirtualMachineMigrationStatus;
  readonly actions: MigrationAction[];
  readonly condition: (u: ConditionUpdate) => void;
  readonly done: () => MigrationDecision;
  /** Hand the target pod to the VM (not when the VM already runs in it). */
  readonly adoptTarget: boolean;
}

/** Completed: the target becomes the VM's runner (the VM controller switches the VM on `Succeeded`). */
function complete({
  obs,
  status,
  actions,
  condition,
  done,
  adoptTarget,
}: CompleteOptions): MigrationDecision {
  if (adoptTarget) actions.push({ kind: 'adopt-target-pod' });
  // The source pod is deleted in the Succeeded phase, once the VM points at the target: the VM must
  // never be left without the pod it still points at.
  status.phase = 'Succeeded';
  status.info = { ...(status.info ?? {}), status: 'completed' };
  condition({
    type: CONDITION_AVAILABLE,
    status: 'True',
    reason: Reasons.MigrationSucceeded,
    message: `VM (${obs.migration.spec.vmName}) now runs in Pod (${status.targetPodName})`,
  });
  actions.push({
    kind: 'event',
    type: 'Normal',
    reason: 'MigrationSucceeded',
    message: `now running in ${status.targetPodName}`,
  });
  return done();
}

/** Terminal phases: only leftovers are removed (the VM follows the terminal phase by itself). */
function finish(
  obs: MigrationObservation,
  status: VirtualMachineMigrationStatus,
  actions: MigrationAction[],
  done: () => MigrationDecision,
): MigrationDecision {
  const vmPod = obs.vm?.status?.podName;
  if (
    status.phase === 'Succeeded' &&
    obs.sourcePod &&
    status.sourcePodName &&
    vmPod !== status.sourcePodName
  ) {
    actions.push({ kind: 'delete-pod', podName: status.sourcePodName });
  }
  if (status.phase === 'Failed' && obs.targetPod && status.targetPodName && vmPod !== status.targetPodName) {
    actions.push({ kind: 'delete-pod', podName: status.targetPodName });
  }
  return done();
}
