/**
 * Self-managed webhook certificates: a throw-away CA and a serving certificate made with the openssl
 * CLI (Node's crypto makes keys but cannot sign X.509). ECDSA P-256, as `cluster/pki` does.
 */
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

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
  const dir = await mkdtemp(join(tmpdir(), 'neonvm-webhook-pki-'));
  try {
    const f = (n: string): string => join(dir, n);
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    await run('openssl', [
      'req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', String(req.validDays + 1),
      '-subj', '/CN=neonvm-webhook-ca', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign',
    ]); // prettier-ignore
    const sans = [...req.ips.map((i) => `IP:${i}`), ...req.dnsNames.map((d) => `DNS:${d}`)].join(',');
    await writeFile(
      f('ext'),
      `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=${sans}\n`,
    );
    await run('openssl', [
      'req',
      '-new',
      ...ec,
      '-keyout',
      f('tls.key'),
      '-out',
      f('tls.csr'),
      '-subj',
      `/CN=${req.dnsNames[0] ?? req.ips[0]}`,
    ]);
    await run('openssl', [
      'x509', '-req', '-in', f('tls.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-set_serial', `0x${Date.now().toString(16)}`,
      '-days', String(req.validDays), '-out', f('tls.crt'), '-extfile', f('ext'),
    ]); // prettier-ignore
    const [caCert, cert, key] = await Promise.all(
      ['ca.crt', 'tls.crt', 'tls.key'].map((n) => readFile(f(n), 'utf8')),
    );
    return { caCert, cert, key };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
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
