import { X509Certificate } from 'node:crypto';
import { certificateUsable, createMigrationCa, issueMigrationCertificate } from './migration-pki';

const DAY = 86_400_000;

describe('migration PKI (openssl)', () => {
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
});
