/**
 * The part of cert-manager's CertificateRequest API (cert-manager.io/v1) the operator writes and reads,
 * and the key + CSR it sends. Keys are ECDSA P-256 in SEC1 PEM (`EC PRIVATE KEY`), as upstream makes
 * them; the CSR is built in-process (operator/pki/x509.ts: Node's crypto cannot build one, and the
 * operator image has no openssl CLI).
 */
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import type { KubeObject, ResourceId } from '../../kube';
import { createCertificateRequest } from '../pki/x509';
import type { CertificateFacts, TlsObservation } from './decide-tls-action';

export const CERT_MANAGER_GROUP = 'cert-manager.io';
export const CERTIFICATE_REQUESTS: ResourceId = {
  group: CERT_MANAGER_GROUP,
  version: 'v1',
  plural: 'certificaterequests',
  kind: 'CertificateRequest',
};

export interface CertificateRequestCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export interface CertificateRequest extends KubeObject {
  spec: {
    /** Base64 of the PEM CSR. */
    request: string;
    issuerRef: { name: string; kind: 'ClusterIssuer' | 'Issuer'; group: string };
    duration?: string;
    isCA?: boolean;
    usages?: string[];
  };
  status?: {
    conditions?: CertificateRequestCondition[];
    /** Base64 PEM of the issued certificate (chain). */
    certificate?: string;
    /** Base64 PEM of the issuing CA, if the issuer knows it. */
    ca?: string;
    failureTime?: string;
  };
}

/** A fresh ECDSA P-256 private key, SEC1 PEM. */
export function generateEcPrivateKey(): string {
  const { privateKey } = generateKeyPairSync('ec', {
    namedCurve: 'prime256v1',
    privateKeyEncoding: { type: 'sec1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return privateKey;
}

/** PEM CSR for `serverName` (CN and the only DNS SAN), signed with `keyPem`. */
export async function createCsr(keyPem: string, serverName: string): Promise<string> {
  if (!serverName)
    throw new Error('CSR: serverName (spec.tls.serverName) is empty; it is the CN and DNS name');
  return createCertificateRequest(keyPem, serverName);
}

/** Validity of the first certificate in a PEM bundle; undefined if it does not parse. */
export function certificateFacts(pem: string): CertificateFacts | undefined {
  try {
    const cert = new X509Certificate(pem);
    return { notBefore: Date.parse(cert.validFrom), notAfter: Date.parse(cert.validTo) };
  } catch {
    return undefined;
  }
}

/** A CertificateRequest as the decision needs it: issued, or failed with why and when. */
export function requestState(
  cr: CertificateRequest,
  specDigest: string | undefined,
): NonNullable<TlsObservation['request']> {
  const conditions = cr.status?.conditions ?? [];
  const find = (type: string) => conditions.find((c) => c.type === type);
  const denied = find('Denied');
  const invalid = find('InvalidRequest');
  const ready = find('Ready');
  const bad =
    denied?.status === 'True'
      ? denied
      : invalid?.status === 'True'
        ? invalid
        : ready?.status === 'False' && ready.reason === 'Failed'
          ? ready
          : undefined;
  const at = Date.parse(bad?.lastTransitionTime ?? cr.status?.failureTime ?? '');
  return {
    specDigest,
    issued: Boolean(cr.status?.certificate),
    ...(ready?.message && !bad ? { pendingMessage: ready.message } : {}),
    ...(bad
      ? {
          failure: {
            reason: bad.reason ?? bad.type,
            message: bad.message ?? '',
            at: Number.isNaN(at) ? 0 : at,
          },
        }
      : {}),
  };
}
