/**
 * TLS provisioning for `spec.tls` as a pure function: from the VM's certificate Secret, the temporary
 * key Secret and the cert-manager CertificateRequest to the next steps. The flow is upstream's (a key in
 * `<secret>-tmp`, a CertificateRequest named after the VM, the issued certificate copied into the
 * `kubernetes.io/tls` Secret the runner pod mounts and syncs into the guest), with its gaps closed:
 *
 * - only the first certificate gates the VM: upstream stops the whole reconcile while a renewal is
 *   pending (no scaling, no status), here a running VM keeps its valid certificate until the new one
 *   arrives;
 * - renewal is scheduled (requeue at the renewal time) rather than left to periodic resyncs, and the
 *   CertificateRequest is watched (the reconciler runs when cert-manager updates it) instead of polled;
 * - a change of serverName, issuer or lifetime re-issues the certificate (upstream keeps the old one);
 * - a failed or denied request is reported (event + Degraded) and retried after a delay instead of
 *   waiting forever.
 */
import { createHash } from 'node:crypto';
import { parseGoDuration, type TlsProvisioning as TlsSpec } from '../../crds';

/** What the operator read from a certificate (PEM parsed by the caller). */
export interface CertificateFacts {
  readonly notBefore: number;
  readonly notAfter: number;
}

export interface TlsObservation {
  readonly tls: TlsSpec;
  /** The certificate in the VM's TLS Secret, and the spec digest it was issued for (annotation). */
  readonly secret?: { readonly certificate?: CertificateFacts; readonly specDigest?: string };
  /** The temporary key Secret exists. */
  readonly keySecretExists: boolean;
  /** The cert-manager CertificateRequest named after the VM. */
  readonly request?: {
    readonly specDigest?: string;
    readonly issued: boolean;
    /** cert-manager's word on a request that is neither issued nor failed (e.g. issuer not ready). */
    readonly pendingMessage?: string;
    /** Denied, invalid or failed, with cert-manager's reason and message and when it happened. */
    readonly failure?: { readonly reason: string; readonly message: string; readonly at: number };
  };
  readonly now: number;
}

export type TlsAction =
  | { readonly kind: 'create-key' }
  | { readonly kind: 'create-request' }
  | { readonly kind: 'delete-request' }
  | { readonly kind: 'write-secret' }
  | { readonly kind: 'delete-key' };

export interface TlsDecision {
  /** The Secret holds a certificate that has not expired: the runner pod may be created. */
  readonly ready: boolean;
  readonly actions: TlsAction[];
  readonly requeueAfterMs?: number;
  /** Why provisioning is stuck (for an event and the Degraded condition). */
  readonly problem?: string;
  /** What the first certificate is waiting for (shown on the VM while it is Pending). */
  readonly waiting?: string;
}

/** Delay before a failed or denied CertificateRequest is replaced by a new one. */
export const TLS_RETRY_MS = 60_000;
/** Longest single requeue while waiting for the renewal time (timers are re-armed on every reconcile). */
export const TLS_MAX_WAIT_MS = 12 * 3_600_000;

/** The fields a certificate is issued for: when they change, the certificate is issued again. */
export function tlsSpecDigest(tls: TlsSpec): string {
  const fields = [tls.serverName ?? '', tls.certificateIssuer ?? '', tls.expireAfter ?? ''];
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex').slice(0, 16);
}

/** When to renew: `renewBefore` ahead of expiry, else (cert-manager's default) at 2/3 of the lifetime. */
export function renewalTime(tls: TlsSpec, cert: CertificateFacts): number {
  const renewBefore = tls.renewBefore === undefined ? undefined : parseGoDuration(tls.renewBefore);
  if (renewBefore !== undefined) return cert.notAfter - renewBefore;
  return cert.notBefore + ((cert.notAfter - cert.notBefore) * 2) / 3;
}

export function decideTlsAction(obs: TlsObservation): TlsDecision {
  const { tls, now } = obs;
  const digest = tlsSpecDigest(tls);
  const cert = obs.secret?.certificate;
  const ready = cert !== undefined && now < cert.notAfter;
  const renewAt = cert ? renewalTime(tls, cert) : 0;
  const current = ready && obs.secret?.specDigest === digest;

  if (current && now < renewAt) {
    const actions: TlsAction[] = [];
    if (obs.request) actions.push({ kind: 'delete-request' });
    if (obs.keySecretExists) actions.push({ kind: 'delete-key' });
    return { ready, actions, requeueAfterMs: Math.min(renewAt - now, TLS_MAX_WAIT_MS) };
  }
  // A certificate the issuer made shorter than renewBefore is due as soon as it is written: issue at
  // most once per retry period then, and say why, rather than hammering the issuer.
  if (
    current &&
    cert &&
    renewAt - cert.notBefore < TLS_RETRY_MS &&
    now - cert.notBefore < TLS_RETRY_MS &&
    !obs.request
  ) {
    return {
      ready,
      actions: [],
      requeueAfterMs: TLS_RETRY_MS - (now - cert.notBefore),
      problem:
        'the issued certificate is already due for renewal: its lifetime is shorter than spec.tls.renewBefore',
    };
  }

  const request = obs.request;
  if (!request) {
    const actions: TlsAction[] = obs.keySecretExists ? [] : [{ kind: 'create-key' }];
    actions.push({ kind: 'create-request' });
    return { ready, actions };
  }
  if (request.specDigest !== digest) {
    // Asked for other names or another issuer: replace it (a new key is made only if there is none).
    return { ready, actions: [{ kind: 'delete-request' }], requeueAfterMs: 0 };
  }
  if (request.failure) {
    const problem = `CertificateRequest failed (${request.failure.reason}): ${request.failure.message}`;
    const waited = now - request.failure.at;
    if (waited >= TLS_RETRY_MS)
      return { ready, actions: [{ kind: 'delete-request' }], requeueAfterMs: 0, problem };
    return { ready, actions: [], requeueAfterMs: TLS_RETRY_MS - waited, problem };
  }
  if (request.issued) {
    if (!obs.keySecretExists) {
      // The key that goes with this certificate is gone: it cannot be used. Start over.
      return { ready, actions: [{ kind: 'delete-request' }], requeueAfterMs: 0 };
    }
    return { ready, actions: [{ kind: 'write-secret' }], requeueAfterMs: 0 };
  }
  const waiting = `waiting for CertificateRequest to be issued${request.pendingMessage ? `: ${request.pendingMessage}` : ''}`;
  return { ready, actions: [], waiting };
}
