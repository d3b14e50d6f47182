/**
 * Self-managed webhook certificates: a throw-away CA and a serving certificate, made in-process
 * (operator/pki/x509.ts) — the operator image needs no openssl. ECDSA P-256, as `cluster/pki` does.
 */
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { issueCertificate } from '../pki/x509';

export interface WebhookCertificates {
  readonly caCert: string;
  readonly cert: string;
  readonly key: string;
}

export interface CertificateRequest {
  readonly dnsNames: readonly string[];
  readonly ips: readonly string[];
  readonly validDays: number;
}

export async function generateWebhookCertificates(req: CertificateRequest): Promise<WebhookCertificates> {
  const commonName = req.dnsNames[0] ?? req.ips[0];
  if (!commonName) throw new Error('webhook certificate: dnsNames and ips are both empty');
  const badIp = req.ips.find((ip) => isIP(ip) === 0);
  if (badIp !== undefined)
    throw new Error(`webhook certificate: ips: ${JSON.stringify(badIp)} is not an IP address`);
  // The CA outlives the serving certificate (a day more): the chain never ends before the leaf does.
  const ca = await issueCertificate({
    commonName: 'neonvm-webhook-ca',
    isCa: true,
    keyUsages: ['keyCertSign'],
    validDays: req.validDays + 1,
  });
  const serving = await issueCertificate(
    {
      commonName,
      dnsNames: req.dnsNames,
      ips: req.ips,
      isCa: false,
      keyUsages: ['digitalSignature'],
      extendedKeyUsages: ['serverAuth'],
      validDays: req.validDays,
    },
    ca,
  );
  return { caCert: ca.cert, cert: serving.cert, key: serving.key };
}

/** Expiry of the first certificate in a PEM. */
export function certificateNotAfter(pem: string): Date {
  return new Date(new X509Certificate(pem).validTo);
}

/** Whether `pem` is valid for longer than `renewBeforeMs` from `now`. */
export function isFresh(pem: string, now: number, renewBeforeMs: number): boolean {
  try {
    return certificateNotAfter(pem).getTime() - renewBeforeMs > now;
  } catch {
    return false;
  }
}
