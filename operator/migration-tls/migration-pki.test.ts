import 'reflect-metadata';
import * as peculiar from '@peculiar/x509';
import { X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { connect, createServer, type TLSSocket } from 'node:tls';
import {
  certificateUsable,
  createMigrationCa,
  issueMigrationCertificate,
  type KeyPair,
} from './migration-pki';

const DAY = 86_400_000;

/**
 * A mutual-TLS handshake as QEMU's migration does it: both ends present their VM certificate and trust
 * the CA; the source checks the target's DNS name (`tls-hostname`), the target reads the source's CN
 * (`tls-authz`). Resolves with the CN the server saw, rejects with the TLS error.
 */
async function migrationHandshake(
  server: KeyPair,
  client: KeyPair,
  ca: string,
  hostname: string,
): Promise<string> {
  const tlsServer = createServer({ ...server, ca, requestCert: true, rejectUnauthorized: true });
  const peerCn = new Promise<string>((resolve) =>
    tlsServer.on('secureConnection', (s: TLSSocket) => {
      resolve(String(s.getPeerCertificate().subject.CN));
      s.end();
    }),
  );
  tlsServer.on('tlsClientError', () => undefined); // the client's side reports the failure
  await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = tlsServer.address() as AddressInfo;
    await new Promise<void>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, servername: hostname, ...client, ca });
      socket.on('secureConnect', () => {
        socket.end();
        resolve();
      });
      socket.on('error', reject);
    });
    return await peerCn;
  } finally {
    tlsServer.close();
  }
}

describe('migration PKI', () => {
  it("issues a VM certificate for both ends, named after the VM, signed by the operator's CA", async () => {
    const ca = await createMigrationCa(30);
    const name = '0b7c6d8e-1111-2222-3333-444455556666.migration.neonvm';
    const leaf = await issueMigrationCertificate(ca, name, 10);
    const cert = new X509Certificate(leaf.cert);
    expect(cert.verify(new X509Certificate(ca.cert).publicKey)).toBe(true);
    expect(cert.subject).toBe(`CN=${name}`);
    expect(cert.subjectAltName).toBe(`DNS:${name}`);
    expect(cert.ca).toBe(false);
    expect(cert.keyUsage).toEqual(expect.arrayContaining(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']));
    const parsed = new peculiar.X509Certificate(leaf.cert);
    expect(parsed.getExtension(peculiar.BasicConstraintsExtension)?.critical).toBe(true);
    const keyUsage = parsed.getExtension(peculiar.KeyUsagesExtension);
    expect(keyUsage?.critical).toBe(true);
    expect(keyUsage?.usages).toBe(
      peculiar.KeyUsageFlags.digitalSignature | peculiar.KeyUsageFlags.keyEncipherment,
    );
    const caExt = new peculiar.X509Certificate(ca.cert);
    expect(caExt.subject).toBe('CN=neonvm-migration-ca');
    expect(caExt.getExtension(peculiar.BasicConstraintsExtension)).toMatchObject({
      ca: true,
      critical: true,
    });
    expect(caExt.getExtension(peculiar.KeyUsagesExtension)).toMatchObject({
      usages: peculiar.KeyUsageFlags.keyCertSign | peculiar.KeyUsageFlags.cRLSign,
      critical: true,
    });
    expect(leaf.key.startsWith('-----BEGIN PRIVATE KEY-----\n')).toBe(true);
    const now = Date.now();
    expect(certificateUsable({ cert: leaf.cert, caCert: ca.cert }, ca, name, now)).toBe(true);
    // another VM, another CA, two thirds of the life gone, garbage: all reissued
    expect(certificateUsable({ cert: leaf.cert, caCert: ca.cert }, ca, `x${name}`, now)).toBe(false);
    const other = await createMigrationCa(30);
    expect(certificateUsable({ cert: leaf.cert, caCert: ca.cert }, other, name, now)).toBe(false);
    expect(certificateUsable({ cert: leaf.cert, caCert: ca.cert }, ca, name, now + 7 * DAY)).toBe(false);
    expect(certificateUsable({ cert: 'junk', caCert: ca.cert }, ca, name, now)).toBe(false);
  });

  it('refuses a name that is not a DNS name', async () => {
    const ca = await createMigrationCa(1);
    expect(() => issueMigrationCertificate(ca, 'a/CN=b', 1)).toThrow('not a migration TLS name');
  });

  it('serves both ends of a mutual-TLS handshake; a certificate from another CA or name is refused', async () => {
    const ca = await createMigrationCa(30);
    const source = await issueMigrationCertificate(ca, 'source.migration.neonvm', 10);
    const target = await issueMigrationCertificate(ca, 'target.migration.neonvm', 10);
    await expect(migrationHandshake(target, source, ca.cert, 'target.migration.neonvm')).resolves.toBe(
      'source.migration.neonvm',
    );
    await expect(migrationHandshake(target, source, ca.cert, 'other.migration.neonvm')).rejects.toThrow(
      /Hostname\/IP does not match/,
    );
    const stranger = await issueMigrationCertificate(
      await createMigrationCa(30),
      'target.migration.neonvm',
      10,
    );
    await expect(migrationHandshake(stranger, source, ca.cert, 'target.migration.neonvm')).rejects.toThrow(
      'unable to verify the first certificate',
    );
  });
});
