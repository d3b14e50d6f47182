/**
 * The VirtualMachineMigration machine as a pure function (upstream §3.9, with its holes fixed): the VM
 * moves to Migrating only after the source runner accepted the migration (#1427); completionTimeout,
 * nodeSelector and nodeAffinity are honoured; a migration whose VM is gone fails and can always be
 * deleted.
 *
 * Failure safety: every round that could end the migration first asks both runners what their QEMU
 * holds (`GET /qemu`, judged by `guest-whereabouts.ts`) and decides from that, never from the phase it
 * last wrote: a target that holds the guest makes the migration succeed even if a status write was
 * lost, the source died after completing, or the timeout passed; a pod that may hold the only running
 * guest is never deleted; post-copy is never cancelled; a guest that exists nowhere any more is
 * reported (reasons `PostCopyFailed`, `GuestLost`, `SourcePodFailed`), and the VM controller then
 * fails the VM so that its restart policy applies, instead of showing it Running on a paused source.
 *
 * It writes only the migration's status. The VM reconciler derives the VM's phases from it
 * (`vm/migration-state.ts`): Pending → VM PreMigrating (scaling stops), Running → Migrating,
 * Succeeded → the VM switches to the target pod; Failed or deleted → Running on the source (or Failed
 * when the guest was lost). So this machine waits for the VM to show PreMigrating before it makes the
 * target pod, and deletes the source pod only once the VM points at the target.
 */
import type { V1Pod } from '@kubernetes/client-node';
import {
  FINALIZER,
  type VirtualMachine,
  type VirtualMachineMigration,
  type VirtualMachineMigrationStatus,
} from '../../crds';
import {
  CONDITION_AVAILABLE,
  CONDITION_DEGRADED,
  Reasons,
  findCondition,
  hasFinalizer,
  isBeingDeleted,
  setCondition,
  type ConditionUpdate,
  type Reason,
} from '../controller-kit';
import { podTerminationMessage, runnerPodPhase, runnerStopped } from '../pod/runner-pod-status';
import {
  endState,
  mayHold,
  whereabouts,
  type QemuObservation,
  type QemuReport,
  type Whereabouts,
} from './guest-whereabouts';

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
  /** The source runner's `GET /qemu`; gathered whenever a decision depends on where the guest is. */
  readonly source?: QemuObservation;
  /** The target runner's `GET /qemu`; likewise. */
  readonly target?: QemuObservation;
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
  readonly outcome?: {
    readonly result: 'succeeded' | 'failed';
    readonly reason: string;
    readonly message?: string;
  };
}

/** Reasons of a Failed migration after which the guest exists nowhere: the VM fails and restarts. */
export const GUEST_LOST_REASONS: readonly string[] = [
  Reasons.PostCopyFailed,
  Reasons.GuestLost,
  Reasons.SourcePodFailed,
];

/** `: exit code 1 (Error)` for an ended pod, else empty. */
function why(pod: V1Pod | undefined): string {
  const message = pod ? podTerminationMessage(pod) : '';
  return message ? `: ${message}` : '';
}

/** Poll period while waiting for runner-side state (target QEMU listening, stream progress). */
export const MIGRATION_POLL_MS = 1_000;

/** Whether the observation needs both runners asked (`GET /qemu`) before deciding. */
export function needsRunnerReports(m: VirtualMachineMigration, vm: VirtualMachine | undefined): boolean {
  const phase = m.status?.phase;
  if (!vm || !m.status?.targetPodName || vm.status?.podName === m.status.targetPodName) return false;
  return phase === 'Pending' || phase === 'Running' || phase === 'Failed' || isBeingDeleted(m);
}

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
  const report = (o: QemuObservation | undefined) => (o && !('error' in o) ? o : undefined);
  const source = splitByFailedPostcopy(m, report(obs.source))
    ? 'postcopy'
    : endState(obs.sourcePod, obs.source);
  const target = endState(obs.targetPod, obs.target);
  const where: Whereabouts = whereabouts({
    source,
    target,
    targetStream: report(obs.target)?.migration.status,
    sourceStream: report(obs.source)?.migration.status,
  });
  /** The target pod may go only if it cannot hold the only copy of the guest. */
  const targetDeletable =
    !!obs.targetPod &&
    !!targetName &&
    !targetIsVmPod &&
    (!vm || where.kind === 'lost' || !mayHold(target) || source === 'running' || source === 'paused');

  const fail = (
    reason: Reason,
    message: string,
    opts: { cancel?: boolean; deleteTarget?: boolean } = {},
  ): MigrationDecision => {
    if (opts.cancel) actions.push({ kind: 'cancel-migration' });
    // After a cancel the stream may still have completed in the meantime: the target is deleted in a
    // later round (`finish`), after asking it again.
    if ((opts.deleteTarget ?? true) && !opts.cancel && targetDeletable && targetName)
      actions.push({ kind: 'delete-pod', podName: targetName });
    status.phase = 'Failed';
    condition({ type: CONDITION_DEGRADED, status: 'True', reason, message });
    condition({ type: CONDITION_AVAILABLE, status: 'False', reason, message });
    actions.push({ kind: 'event', type: 'Warning', reason: 'MigrationFailed', message });
    outcome = { result: 'failed', reason, message };
    return done();
  };
  const lost = (w: Extract<Whereabouts, { kind: 'lost' }>): MigrationDecision => {
    const reason = w.postcopy
      ? Reasons.PostCopyFailed
      : source === 'gone'
        ? Reasons.SourcePodFailed
        : Reasons.GuestLost;
    actions.push({
      kind: 'event',
      type: 'Warning',
      reason: 'GuestLost',
      message: `the guest of VM ${vmName} did not survive the migration: ${w.why}`,
    });
    return fail(reason, `guest lost: ${w.why}${why(obs.sourcePod)}`);
  };
  const succeed = (): MigrationDecision => {
    outcome = { result: 'succeeded', reason: Reasons.MigrationSucceeded };
    return complete({ obs, status, actions, condition, done, adoptTarget: !targetIsVmPod });
  };
  /** Two whole copies: the source (the VM's pod) keeps running, the target's copy is discarded. */
  const both = (): MigrationDecision =>
    fail(
      Reasons.MigrationFailed,
      'QEMU reported a failure only to the source, which resumed the guest; the target copy is discarded',
    );
  const recordProgress = (): void => {
    const info = report(obs.source)?.migration;
    if (info && info.status && info.status !== 'none') status.info = info;
  };

  if (isBeingDeleted(m)) {
    if (!hasFinalizer(m, FINALIZER)) return done();
    const unfinished = status.phase !== 'Succeeded' && status.phase !== 'Failed';
    if (unfinished && vm && obs.targetPod && !targetIsVmPod) {
      // Deleting a migration cancels it, unless the guest is already (partly) in the target.
      switch (where.kind) {
        case 'in-target':
          return succeed(); // the finalizer stays until the VM has switched (below, next rounds)
        case 'postcopy':
        case 'unsettled':
          return done(MIGRATION_POLL_MS);
        case 'streaming':
          actions.push({ kind: 'cancel-migration' });
          return done(MIGRATION_POLL_MS);
        default:
          if (targetDeletable && targetName) actions.push({ kind: 'delete-pod', podName: targetName });
      }
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
    // A cancel that came too late, or a failure written by an older operator: the target has the guest.
    if (status.phase === 'Failed' && vm && !targetIsVmPod && where.kind === 'in-target') {
      actions.push({
        kind: 'event',
        type: 'Warning',
        reason: 'MigrationCompletedAfterAll',
        message: `the target ${targetName} holds the guest: the migration completed after all`,
      });
      return succeed();
    }
    return finish(obs, status, actions, done, targetDeletable);
  }
  if (!vm) {
    return fail(Reasons.VmNotFound, `VM (${vmName}) not found`);
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

  // completionTimeout counts from the migration's creation and covers every phase before the end; it
  // never fails a migration whose guest is (partly) in the target already.
  const timeoutMs = (m.spec.completionTimeout ?? 0) * 1000;
  const created = m.metadata?.creationTimestamp ? new Date(m.metadata.creationTimestamp).getTime() : obs.now;
  const deadline = created + timeoutMs;
  const timedOut = timeoutMs > 0 && obs.now >= deadline;
  const timeoutMessage = `migration did not complete within ${m.spec.completionTimeout}s`;
  const untilDeadline = timeoutMs > 0 ? Math.max(0, deadline - obs.now) : undefined;
  const wait = (ms?: number): MigrationDecision => {
    const candidates = [ms, untilDeadline].filter((x): x is number => x !== undefined);
    return done(candidates.length > 0 ? Math.min(...candidates) : undefined);
  };

  if (!targetName) {
    if (timedOut) return fail(Reasons.CompletionTimeout, timeoutMessage);
    status.targetPodName = obs.newTargetPodName;
    return done();
  }

  switch (status.phase ?? '') {
    case '': {
      if (timedOut) return fail(Reasons.CompletionTimeout, timeoutMessage);
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
      // The VM already runs in the target (switched by an operator that wrote the VM first).
      if (targetIsVmPod) return succeed();
      if (vm.status?.podName !== status.sourcePodName)
        return fail(
          Reasons.MigrationFailed,
          `VM (${vmName}) no longer runs in source Pod (${status.sourcePodName})`,
        );
      if (obs.targetPod) {
        status.targetPodIP = obs.targetPod.status?.podIP ?? status.targetPodIP;
        status.targetNode = obs.targetPod.spec?.nodeName ?? status.targetNode;
        // A start whose status write was lost: the stream may be flowing, or even be over.
        switch (where.kind) {
          case 'in-target':
            return succeed();
          case 'both':
            return both();
          case 'lost':
            return lost(where);
          case 'streaming':
          case 'postcopy':
            status.phase = 'Running';
            recordProgress();
            actions.push({
              kind: 'event',
              type: 'Normal',
              reason: 'MigrationRecovered',
              message: `the stream to ${targetName} is already flowing (an earlier status write was lost)`,
            });
            return wait(MIGRATION_POLL_MS);
          case 'unsettled':
            return wait(MIGRATION_POLL_MS);
          case 'in-source':
            break;
        }
      }
      const vmPhase = vm.status?.phase;
      // The VM controller stops scaling (PreMigrating) on seeing this Pending; a scaling VM first
      // finishes its request. The target pod is made only then, with the CPUs the source has plugged.
      if (vmPhase === 'Running' || vmPhase === 'Scaling') {
        if (timedOut) return fail(Reasons.CompletionTimeout, timeoutMessage);
        return wait();
      }
      if (vmPhase !== 'PreMigrating')
        return fail(
          Reasons.MigrationFailed,
          `VM (${vmName}) left Running before the migration started (now ${vmPhase ?? ''})`,
        );
      // Only an ended (or vanished) source has lost the guest. A source that is merely NotReady still
      // runs it — its guest agent answered the probe too slowly (TCG under load), or it is busy — and
      // SourcePodFailed would fail the VM and restart it: wait for it instead, as long as the timeout
      // allows, and make the target only once the source is ready to be asked for its CPUs.
      if (!obs.sourcePod || runnerStopped(obs.sourcePod)) {
        return fail(
          Reasons.SourcePodFailed,
          `source Pod (${status.sourcePodName}) is not running${why(obs.sourcePod)}`,
        );
      }
      if (timedOut) return fail(Reasons.CompletionTimeout, timeoutMessage);
      if (!obs.targetPod && runnerPodPhase(obs.sourcePod) !== 'running') return wait(MIGRATION_POLL_MS);
      if (!obs.targetPod) {
        actions.push({ kind: 'create-target-pod' });
        return wait();
      }
      const targetPhase = runnerPodPhase(obs.targetPod);
      if (targetPhase === 'succeeded')
        return fail(
          Reasons.TargetPodFailed,
          `Target Pod (${targetName}) completed suddenly${why(obs.targetPod)}`,
        );
      if (targetPhase === 'failed')
        return fail(Reasons.TargetPodFailed, `Target Pod (${targetName}) failed${why(obs.targetPod)}`);
      if (targetPhase === 'pending' || target !== 'incoming') return wait(MIGRATION_POLL_MS);
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
      if (targetIsVmPod) return succeed();
      recordProgress();
      switch (where.kind) {
        case 'in-target':
          return succeed();
        case 'both':
          return both();
        case 'lost':
          return lost(where);
        case 'postcopy':
          // Post-copy cannot be cancelled (the guest is split): it runs to its end, timeout or not.
          return done(MIGRATION_POLL_MS);
        case 'unsettled':
          return done(MIGRATION_POLL_MS);
        case 'streaming':
          if (timedOut) return fail(Reasons.CompletionTimeout, timeoutMessage, { cancel: true });
          return wait(MIGRATION_POLL_MS);
        case 'in-source': {
          const stream = report(obs.source)?.migration.status;
          if (target === 'gone' || target === 'stopped') {
            const message = obs.targetPod
              ? `Target Pod (${targetName}) ${runnerPodPhase(obs.targetPod) === 'succeeded' ? 'completed suddenly' : 'failed'}${why(obs.targetPod)}`
              : `Target Pod (${targetName}) disappeared`;
            return fail(obs.targetPod ? Reasons.TargetPodFailed : Reasons.TargetPodDisappeared, message, {
              cancel: isActive(stream),
            });
          }
          if (stream === 'failed' || stream === 'cancelled') {
            const error = report(obs.source)?.migrationError;
            return fail(Reasons.MigrationFailed, `QEMU migration ${stream}${error ? `: ${error}` : ''}`);
          }
          if (timedOut) return fail(Reasons.CompletionTimeout, timeoutMessage, { cancel: isActive(stream) });
          return wait(MIGRATION_POLL_MS);
        }
      }
      return done();
    }
    default:
      return done();
  }
}

/**
 * A source whose post-copy migration failed holds a stale guest, even where its runner says `running`
 * or `paused`: QEMU 10 restarts such a source, and runners before Migrator.staleAfterPostcopy report it
 * by its run state (newer ones say `postcopy` themselves). This migration's own record tells: its
 * status.info is the source's report of the previous round, so a recorded post-copy state followed by
 * a failed or cancelled stream means the guest was split. (A post-copy phase shorter than the poll
 * period leaves no record; the runner's own report covers that.)
 */
function splitByFailedPostcopy(m: VirtualMachineMigration, source: QemuReport | undefined): boolean {
  if (!source) return false;
  const recordedPostcopy = (m.status?.info?.status ?? '').startsWith('postcopy');
  const stream = source.migration.status ?? '';
  return (
    recordedPostcopy &&
    (stream === 'failed' || stream === 'cancelled') &&
    (source.custody === 'running' || source.custody === 'paused')
  );
}

function isActive(status: string | undefined): boolean {
  return status !== undefined && !['none', 'completed', 'failed', 'cancelled'].includes(status);
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
  if (adoptTarget && obs.targetPod) actions.push({ kind: 'adopt-target-pod' });
  // The source pod is deleted in the Succeeded phase, once the VM points at the target: the VM must
  // never be left without the pod it still points at.
  status.phase = 'Succeeded';
  if (obs.targetPod?.status?.podIP) status.targetPodIP = obs.targetPod.status.podIP;
  if (obs.targetPod?.spec?.nodeName) status.targetNode = obs.targetPod.spec.nodeName;
  status.info = { ...(status.info ?? {}), status: 'completed' };
  // A migration that looked failed (a late cancel) and completed after all is no longer degraded.
  if (findCondition(status.conditions, CONDITION_DEGRADED))
    condition({
      type: CONDITION_DEGRADED,
      status: 'False',
      reason: Reasons.MigrationSucceeded,
      message: `VM (${obs.migration.spec.vmName}) now runs in Pod (${status.targetPodName})`,
    });
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
  done: (requeueAfterMs?: number) => MigrationDecision,
  targetDeletable: boolean,
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
    // Only once it is certain the target cannot hold the only copy of the guest; asked again later.
    if (targetDeletable) actions.push({ kind: 'delete-pod', podName: status.targetPodName });
    else return done(MIGRATION_POLL_MS);
  }
  return done();
}
