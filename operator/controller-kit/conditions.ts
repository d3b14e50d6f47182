/**
 * metav1.Condition handling shared by both controllers. Unlike upstream, `Degraded` is reset to False
 * once its cause is gone, and every condition records the generation it was computed from.
 */
export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: string;
  status: ConditionStatus;
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export const CONDITION_AVAILABLE = 'Available';
export const CONDITION_DEGRADED = 'Degraded';

/** Reasons (CamelCase, as the Condition schema requires). */
export const Reasons = {
  Reconciling: 'Reconciling',
  RunnerReady: 'RunnerReady',
  RunnerNotReady: 'RunnerNotReady',
  PodSucceeded: 'PodSucceeded',
  PodFailed: 'PodFailed',
  PodNotFound: 'PodNotFound',
  AsExpected: 'AsExpected',
  ScalingFailed: 'ScalingFailed',
  VmNotFound: 'VmNotFound',
  MigrationStarted: 'MigrationStarted',
  MigrationSucceeded: 'MigrationSucceeded',
  MigrationFailed: 'MigrationFailed',
  TargetPodFailed: 'TargetPodFailed',
  TargetPodDisappeared: 'TargetPodDisappeared',
  /** The source runner ended before the stream completed: the guest ended with it. */
  SourcePodFailed: 'SourcePodFailed',
  /** One end of a post-copy migration ended while the guest was split between both: it is lost. */
  PostCopyFailed: 'PostCopyFailed',
  /** The guest exists nowhere any more (e.g. the target ended after the source handed it over). */
  GuestLost: 'GuestLost',
  CompletionTimeout: 'CompletionTimeout',
  RunnerError: 'RunnerError',
  /** The runner runs the VM without parts of its spec (its `/status` `degraded`). */
  RunnerDegraded: 'RunnerDegraded',
  IpamError: 'IpamError',
  /** The overlay IPAM cannot be used (its NetworkAttachmentDefinition is missing or invalid). */
  IpamUnavailable: 'IpamUnavailable',
  ReconcileError: 'ReconcileError',
  TlsProvisioningFailed: 'TlsProvisioningFailed',
  /** An image of the runner pod cannot be pulled (the message names the VM field). */
  ImagePullFailed: 'ImagePullFailed',
  WaitingForCertificate: 'WaitingForCertificate',
  CertificateIssued: 'CertificateIssued',
} as const;
export type Reason = (typeof Reasons)[keyof typeof Reasons];

export interface ConditionUpdate {
  type: string;
  status: ConditionStatus;
  reason: Reason | string;
  message: string;
}

export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/**
 * Returns `conditions` with `update` applied: `lastTransitionTime` changes only when the status changes;
 * reason, message and observedGeneration always follow the update. The input is not modified.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  update: ConditionUpdate,
  now: Date,
  observedGeneration?: number,
): Condition[] {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((c) => c.type === update.type);
  const previous = i >= 0 ? list[i] : undefined;
  const next: Condition = {
    type: update.type,
    status: update.status,
    ...(observedGeneration === undefined ? {} : { observedGeneration }),
    lastTransitionTime:
      previous && previous.status === update.status
        ? previous.lastTransitionTime
        : now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    reason: update.reason,
    message: update.message,
  };
  if (i >= 0) list[i] = next;
  else list.push(next);
  return list;
}

/** Clears Degraded (status False) if it is currently True; absent stays absent. */
export function clearDegraded(
  conditions: readonly Condition[] | undefined,
  message: string,
  now: Date,
  observedGeneration?: number,
): Condition[] {
  const degraded = findCondition(conditions, CONDITION_DEGRADED);
  if (!degraded || degraded.status === 'False') return [...(conditions ?? [])];
  return setCondition(
    conditions,
    { type: CONDITION_DEGRADED, status: 'False', reason: Reasons.AsExpected, message },
    now,
    observedGeneration,
  );
}

export function isConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === 'True';
}
