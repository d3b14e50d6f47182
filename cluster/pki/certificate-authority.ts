import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CertProfile, renderExtensions, renderSubject } from './cert-profile';

const run = promisify(execFile);

/** PEM files on disk; paths because kube-* binaries take files, contents for kubeconfigs and Node TLS. */
export interface KeyPair {
  certFile: string;
  keyFile: string;
}

export interface IssuedCert extends KeyPair {
  cert: string;
  key: string;
}

/**
 * A throw-away certificate authority for one local cluster, driven through the openssl CLI (Node's
 * crypto can make keys but not sign X.509 certificates). ECDSA P-256 keys: generating them is instant,
 * where RSA-2048 costs a noticeable fraction of cluster start time on 2 cores.
 */
export class CertificateAuthority {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: string;

  private constructor(
    private readonly dir: string,
    certFile: string,
    keyFile: string,
    cert: string,
  ) {
    this.certFile = certFile;
    this.keyFile = keyFile;
    this.cert = cert;
  }

  static async create(dir: string, commonName = 'neonvm-local-ca'): Promise<CertificateAuthority> {
    await mkdir(dir, { recursive: true });
    const certFile = join(dir, 'ca.crt');
    const keyFile = join(dir, 'ca.key');
    await run('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', keyFile, '-out', certFile, '-days', '3650', '-subj', `/CN=${commonName}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ]); // prettier-ignore
    return new CertificateAuthority(dir, certFile, keyFile, await readFile(certFile, 'utf8'));
  }

  /** Issues `<name>.crt`/`<name>.key` signed by this CA. */
  async issue(name: string, profile: CertProfile): Promise<IssuedCert> {
    const keyFile = join(this.dir, `${name}.key`);
    const csrFile = join(this.dir, `${name}.csr`);
    const certFile = join(this.dir, `${name}.crt`);
    const extFile = join(this.dir, `${name}.ext`);
    await writeFile(extFile, renderExtensions(profile));
    await run('openssl', [
      'req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', keyFile, '-out', csrFile, '-subj', renderSubject(profile),
    ]); // prettier-ignore
    await run('openssl', [
      'x509', '-req', '-in', csrFile, '-CA', this.certFile, '-CAkey', this.keyFile,
      // A random serial instead of -CAcreateserial: concurrent issues would race on the .srl file.
      '-set_serial', `0x1${randomBytes(15).toString('hex')}`,
      '-days', '365', '-out', certFile, '-extfile', extFile,
    ]); // prettier-ignore
    const [cert, key] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
    return { certFile, keyFile, cert, key };
  }
}

/** The service-account token signing key pair (private key for signing, public key for verifying). */
export async function createServiceAccountKeys(
  dir: string,
): Promise<{ privateKeyFile: string; publicKeyFile: string }> {
  const privateKeyFile = join(dir, 'sa.key');
  const publicKeyFile = join(dir, 'sa.pub');
  await run('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', privateKeyFile]);
  await run('openssl', ['ec', '-in', privateKeyFile, '-pubout', '-out', publicKeyFile]);
  return { privateKeyFile, publicKeyFile };
}
