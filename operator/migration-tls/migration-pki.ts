/**
 * The migration CA and the per-VM migration certificates, made in-process (operator/pki/x509.ts; the
 * openssl CLI they replaced cost two child processes per VM inside the VM reconcile). ECDSA P-256. A VM
 * certificate carries its name as CN (the target's `tls-authz` identity) and as DNS name (the source's
 * `tls-hostname` check), and both serverAuth and clientAuth: one certificate serves both ends.
 */
import { X509Certificate } from 'node:crypto';
import { issueCertificate, type CertificateAndKey } from '../pki/x509';

/** PEM certificate and PEM (PKCS#8) private key. */
export type KeyPair = CertificateAndKey;

/** The migration CA lives ten years; VM certificates one, renewed with a third left. */
export const MIGRATION_CA_VALID_DAYS = 3650;
export const MIGRATION_CERT_VALID_DAYS = 365;

export function createMigrationCa(validDays = MIGRATION_CA_VALID_DAYS): Promise<KeyPair> {
  return issueCertificate({
    commonName: 'neonvm-migration-ca',
    isCa: true,
    keyUsages: ['keyCertSign', 'cRLSign'],
    validDays,
  });
}

/**
 * A VM's migration certificate for `hostname` (migrationTlsHostname), signed by `ca`. Throws (not
 * rejects) on a bad name, before any work.
 */
export function issueMigrationCertificate(
  ca: KeyPair,
  hostname: string,
  validDays = MIGRATION_CERT_VALID_DAYS,
): Promise<KeyPair> {
  if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(hostname) || hostname.length > 64)
    throw new Error(`not a migration TLS name: ${JSON.stringify(hostname)}`);
  return issueCertificate(
    {
      commonName: hostname,
      dnsNames: [hostname],
      isCa: false,
      keyUsages: ['digitalSignature', 'keyEncipherment'],
      extendedKeyUsages: ['serverAuth', 'clientAuth'],
      validDays,
    },
    ca,
  );
}

/** What decides whether a stored VM certificate can still be used. */
export interface StoredCertificate {
  readonly cert: string;
  readonly caCert: string;
}

/**
 * Whether a VM's stored certificate is good for `hostname` under `ca` at `now`: parses, names the
 * VM, was signed by the current CA, and has more than a third of its lifetime left.
 */
/**
 * When a VM certificate stops being usable by {@link certificateUsable}'s rule: a third of its lifetime
 * before it expires. NaN for a certificate that does not parse.
 */
export function certificateRenewalDue(cert: string): number {
  try {
    const parsed = new X509Certificate(cert);
    const from = Date.parse(parsed.validFrom);
    const to = Date.parse(parsed.validTo);
    return to - (to - from) / 3;
  } catch {
    return NaN;
  }
}

export function certificateUsable(
  stored: StoredCertificate,
  ca: KeyPair,
  hostname: string,
  now: number,
): boolean {
  try {
    const cert = new X509Certificate(stored.cert);
    const caCert = new X509Certificate(ca.cert);
    if (stored.caCert.trim() !== ca.cert.trim() || !cert.verify(caCert.publicKey)) return false;
    if (!cert.subject.split('\n').includes(`CN=${hostname}`)) return false;
    if (cert.subjectAltName !== `DNS:${hostname}`) return false;
    const from = Date.parse(cert.validFrom);
    const to = Date.parse(cert.validTo);
    return now >= from && to - now > (to - from) / 3;
  } catch {
    return false;
  }
}
