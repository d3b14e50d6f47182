/**
 * The contract between the TLS reconciler and the VM reconciler, as pure functions. The TLS reconciler
 * is the one writer of the VM's `CertificateReady` condition (server-side apply, field manager
 * `neonvm-tls`); the VM reconciler — the one writer of the rest of VirtualMachine.status — reads it
 * to gate the first runner pod and to derive `Available` (WaitingForCertificate) and `Degraded`
 * (TlsProvisioningFailed) from it.
 */
import {
  Reasons,
  findCondition,
  setCondition,
  type Condition,
  type ConditionUpdate,
} from '../controller-kit';
import type { TlsDecision } from './decide-tls-action';

export const CONDITION_CERTIFICATE_READY = 'CertificateReady';
/** The field manager that owns `CertificateReady` (and nothing else of the VM). */
export const TLS_FIELD_MANAGER = 'neonvm-tls';

/** What the VM reconciler needs to know about spec.tls provisioning. */
export interface TlsReadiness {
  /** The TLS Secret holds a certificate that has not expired: the runner pod may be made. */
  readonly ready: boolean;
  /** Why provisioning is stuck (Degraded, reason TlsProvisioningFailed). */
  readonly problem?: string;
  /** What the first certificate waits for (Available=Unknown, reason WaitingForCertificate). */
  readonly waiting?: string;
}

const WAITING_DEFAULT = 'waiting for the TLS certificate';

/** The condition for one TLS round: True while a usable certificate is in place, even during renewal. */
export function certificateCondition(
  decision: Pick<TlsDecision, 'ready' | 'problem' | 'waiting'>,
  secretName: string,
): ConditionUpdate {
  const status = decision.ready ? 'True' : 'False';
  if (decision.problem)
    return {
      type: CONDITION_CERTIFICATE_READY,
      status,
      reason: Reasons.TlsProvisioningFailed,
      message: decision.problem,
    };
  if (decision.ready)
    return {
      type: CONDITION_CERTIFICATE_READY,
      status,
      reason: Reasons.CertificateIssued,
      message: `Secret ${secretName} holds the certificate`,
    };
  return {
    type: CONDITION_CERTIFICATE_READY,
    status,
    reason: Reasons.WaitingForCertificate,
    message: decision.waiting ?? WAITING_DEFAULT,
  };
}

/**
 * The condition entry to apply, or undefined when the current one already says the same (then
 * nothing is written: lastTransitionTime and the apply stay put).
 */
export function nextCertificateCondition(
  current: readonly Condition[] | undefined,
  update: ConditionUpdate,
  now: Date,
  generation: number | undefined,
): Condition | undefined {
  const before = findCondition(current, CONDITION_CERTIFICATE_READY);
  if (
    before &&
    before.status === update.status &&
    before.reason === update.reason &&
    before.message === update.message &&
    before.observedGeneration === generation
  )
    return undefined;
  return findCondition(setCondition(current, update, now, generation), CONDITION_CERTIFICATE_READY);
}

/** The VM reconciler's reading of the condition; no condition yet means waiting. */
export function tlsReadiness(conditions: readonly Condition[] | undefined): TlsReadiness {
  const c = findCondition(conditions, CONDITION_CERTIFICATE_READY);
  if (!c) return { ready: false };
  return {
    ready: c.status === 'True',
    ...(c.reason === Reasons.TlsProvisioningFailed ? { problem: c.message } : {}),
    ...(c.reason === Reasons.WaitingForCertificate && c.message !== WAITING_DEFAULT
      ? { waiting: c.message }
      : {}),
  };
}
