/**
 * The migration CA and the per-VM migration certificates, made with the openssl CLI as the webhook
 * certificates are (Node's crypto makes keys but cannot sign X.509). ECDSA P-256. A VM certificate
 * carries its name as CN (the target's `tls-authz` identity) and as DNS name (the source's
 * `tls-hostname` check), and both serverAuth and clientAuth: one certificate serves both ends.
 */
import { execFile } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface KeyPair {
  /** PEM certificate. */
  readonly cert: string;
  /** PEM private key. */
  readonly key: string;
}

/** The migration CA lives ten years; VM certificates one, renewed with a third left. */
export const MIGRATION_CA_VALID_DAYS = 3650;
export const MIGRATION_CERT_VALID_DAYS = 365;

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function inTempDir<T>(fn: (f: (name: string) => string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'neonvm-migration-pki-'));
  try {
    return await fn((n) => join(dir, n));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function createMigrationCa(validDays = MIGRATION_CA_VALID_DAYS): Promise<KeyPair> {
  return inTempDir(async (f) => {
    await run('openssl', [
      'req', '-x509', ...EC, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', String(validDays),
      '-subj', '/CN=neonvm-migration-ca',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ]); // prettier-ignore
    const [cert, key] = await Promise.all([readFile(f('ca.crt'), 'utf8'), readFile(f('ca.key'), 'utf8')]);
    return { cert, key };
  });
}

/** A VM's migration certificate for `hostname` (migrationTlsHostname), signed by `ca`. */
export function issueMigrationCertificate(
  ca: KeyPair,
  hostname: string,
  validDays = MIGRATION_CERT_VALID_DAYS,
): Promise<KeyPair> {
  if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(hostname) || hostname.length > 64)
    throw new Error(`not a migration TLS name: ${JSON.stringify(hostname)}`);
  return inTempDir(async (f) => {
    await Promise.all([
      writeFile(f('ca.crt'), ca.cert),
      writeFile(f('ca.key'), ca.key, { mode: 0o600 }),
      writeFile(
        f('ext'),
        'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n' +
          `extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=DNS:${hostname}\n`,
      ),
    ]);
    await run('openssl', [
      'req',
      '-new',
      ...EC,
      '-keyout',
      f('tls.key'),
      '-out',
      f('tls.csr'),
      '-subj',
      `/CN=${hostname}`,
    ]);
    await run('openssl', [
      'x509', '-req', '-in', f('tls.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'),
      '-set_serial', `0x${randomBytes(12).toString('hex')}`,
      '-days', String(validDays), '-out', f('tls.crt'), '-extfile', f('ext'),
    ]); // prettier-ignore
    const [cert, key] = await Promise.all([readFile(f('tls.crt'), 'utf8'), readFile(f('tls.key'), 'utf8')]);
    return { cert, key };
  });
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
