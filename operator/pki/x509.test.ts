import 'reflect-metadata';
import * as peculiar from '@peculiar/x509';
import { createPrivateKey, createPublicKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { createCertificateRequest, issueCertificate, type CertificateProfile } from './x509';

const DAY = 86_400_000;

/**
 * A CA made by the openssl CLI the way the operator made migration CAs before this module (`openssl
 * req -x509 -newkey ec ... -addext basicConstraints=critical,CA:TRUE -addext
 * keyUsage=critical,keyCertSign,cRLSign`, 100 years so the fixture does not expire): clusters keep
 * theirs in the `neonvm-migration-ca` Secret, so new VM certificates must chain to it. A throw-away
 * test key, used nowhere else.
 */
const OPENSSL_CA = {
  cert: `-----BEGIN CERTIFICATE-----
MIIBozCCAUmgAwIBAgIUGg6vznuuAfapOmGkMgGJSVPlSzEwCgYIKoZIzj0EAwIw
HjEcMBoGA1UEAwwTbmVvbnZtLW1pZ3JhdGlvbi1jYTAgFw0yNjEyMDQwOTMzMzRa
GA8yMTI2MTExMDA5MzMzNFowHjEcMBoGA1UEAwwTbmVvbnZtLW1pZ3JhdGlvbi1j
YTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABKThI3oI6fsgRZ7LSGBJYjOcqBkH
o9o53+ARXMJYj+AapJUF8q+HdpC32tQfeUO4AJSVrY50VKAn0MXU4u/omvejYzBh
MB0GA1UdDgQWBBQkRYeMv7bMALoHHEYdlwVcAoHkUDAfBgNVHSMEGDAWgBQkRYeM
v7bMALoHHEYdlwVcAoHkUDAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB/wQEAwIB
BjAKBggqhkjOPQQDAgNIADBFAiBR+fFpg/B563FC3CdedDHQ6bNjPaK43kUZfY6B
q6ab1gIhAMtVJBZI7a8E2iUv4gTUMeLpNTUkJjr3PIOAjBV7Z3ef
-----END CERTIFICATE-----
`,
  key: `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgyPsVT8YtvtyFoIQd
SdYTA3B4Gg+pwQFWmD2yOQ9NanChRANCAASk4SN6COn7IEWey0hgSWIznKgZB6Pa
Od/gEVzCWI/gGqSVBfKvh3aQt9rUH3lDuACUla2OdFSgJ9DF1OLv6Jr3
-----END PRIVATE KEY-----
`,
};

const CA_PROFILE: CertificateProfile = {
  commonName: 'test-ca',
  isCa: true,
  keyUsages: ['keyCertSign', 'cRLSign'],
  validDays: 3650,
};
const LEAF_PROFILE: CertificateProfile = {
  commonName: 'vm.example',
  dnsNames: ['vm.example', 'other.example'],
  ips: ['10.1.2.3', 'fd00::1'],
  isCa: false,
  keyUsages: ['digitalSignature', 'keyEncipherment'],
  extendedKeyUsages: ['serverAuth', 'clientAuth'],
  validDays: 365,
};

/** The extensions Node's X509Certificate does not expose (bits, criticality, key ids). */
function extensions(pem: string) {
  const cert = new peculiar.X509Certificate(pem);
  const bc = cert.getExtension(peculiar.BasicConstraintsExtension);
  const ku = cert.getExtension(peculiar.KeyUsagesExtension);
  const eku = cert.getExtension(peculiar.ExtendedKeyUsageExtension);
  return {
    basicConstraints: bc && { ca: bc.ca, critical: bc.critical },
    keyUsage: ku && { usages: ku.usages, critical: ku.critical },
    extendedKeyUsageCritical: eku?.critical,
    ski: cert.getExtension(peculiar.SubjectKeyIdentifierExtension)?.keyId,
    aki: cert.getExtension(peculiar.AuthorityKeyIdentifierExtension)?.keyId,
  };
}

describe('issueCertificate (in-process X.509)', () => {
  it('makes a self-signed CA: P-256, CA:TRUE and keyCertSign|cRLSign both critical, SKI = AKI', async () => {
    const before = Date.now();
    const ca = await issueCertificate(CA_PROFILE);
    const cert = new X509Certificate(ca.cert);
    expect(cert.subject).toBe('CN=test-ca');
    expect(cert.issuer).toBe('CN=test-ca');
    expect(cert.ca).toBe(true);
    expect(cert.checkIssued(cert)).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(cert.subjectAltName).toBeUndefined();
    // notBefore is now (to the second, X.509's resolution); notAfter validDays later.
    expect(Date.parse(cert.validFrom)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(Date.parse(cert.validFrom)).toBeLessThanOrEqual(Date.now());
    expect(Date.parse(cert.validTo) - Date.parse(cert.validFrom)).toBe(3650 * DAY);
    const ext = extensions(ca.cert);
    expect(ext.basicConstraints).toEqual({ ca: true, critical: true });
    expect(ext.keyUsage).toEqual({
      usages: peculiar.KeyUsageFlags.keyCertSign | peculiar.KeyUsageFlags.cRLSign,
      critical: true,
    });
    expect(ext.extendedKeyUsageCritical).toBeUndefined();
    expect(ext.ski).toMatch(/^[0-9a-f]{40}$/);
    expect(ext.aki).toBe(ext.ski);
    // The key: unencrypted PKCS#8 PEM (what gnutls and Node's TLS read), the certificate's own.
    expect(ca.key).toMatch(/^-----BEGIN PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+-----END PRIVATE KEY-----\n$/);
    expect(createPublicKey(createPrivateKey(ca.key)).equals(cert.publicKey)).toBe(true);
  });

  it('signs a leaf with the CA: names, usages, criticality, AKI = the CA SKI, random serials', async () => {
    const ca = await issueCertificate(CA_PROFILE);
    const [a, b] = await Promise.all([
      issueCertificate(LEAF_PROFILE, ca),
      issueCertificate(LEAF_PROFILE, ca),
    ]);
    const cert = new X509Certificate(a.cert);
    const caCert = new X509Certificate(ca.cert);
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.subject).toBe('CN=vm.example');
    expect(cert.issuer).toBe('CN=test-ca');
    expect(cert.ca).toBe(false);
    // IP addresses first, then DNS names, as the openssl extfile listed them.
    expect(cert.subjectAltName).toBe(
      'IP Address:10.1.2.3, IP Address:FD00:0:0:0:0:0:0:1, DNS:vm.example, DNS:other.example',
    );
    expect(cert.checkHost('other.example')).toBe('other.example');
    expect(cert.checkIP('10.1.2.3')).toBe('10.1.2.3');
    // Node calls the extended key usage OIDs `keyUsage`: serverAuth, clientAuth.
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    expect(Date.parse(cert.validTo) - Date.parse(cert.validFrom)).toBe(365 * DAY);
    const ext = extensions(a.cert);
    expect(ext.basicConstraints).toEqual({ ca: false, critical: true });
    expect(ext.keyUsage).toEqual({
      usages: peculiar.KeyUsageFlags.digitalSignature | peculiar.KeyUsageFlags.keyEncipherment,
      critical: true,
    });
    expect(ext.extendedKeyUsageCritical).toBe(false);
    expect(ext.aki).toBe(extensions(ca.cert).ski);
    expect(ext.ski).not.toBe(ext.aki);
    // Positive serials (no leading 0x80 bit, as Node shows them), distinct per certificate, fresh keys.
    expect(cert.serialNumber).toMatch(/^[0-9A-F]{32,34}$/);
    expect(new X509Certificate(b.cert).serialNumber).not.toBe(cert.serialNumber);
    expect(b.key).not.toBe(a.key);
    expect(createPublicKey(createPrivateKey(a.key)).equals(cert.publicKey)).toBe(true);
  });

  it('signs with a CA the openssl CLI made (PKCS#8 or SEC1 key), chaining to its subject and SKI', async () => {
    const sec1 = createPrivateKey(OPENSSL_CA.key).export({ type: 'sec1', format: 'pem' }).toString();
    for (const ca of [OPENSSL_CA, { cert: OPENSSL_CA.cert, key: sec1 }]) {
      const leaf = await issueCertificate(LEAF_PROFILE, ca);
      const cert = new X509Certificate(leaf.cert);
      const caCert = new X509Certificate(OPENSSL_CA.cert);
      expect(cert.checkIssued(caCert)).toBe(true);
      expect(cert.verify(caCert.publicKey)).toBe(true);
      expect(extensions(leaf.cert).aki).toBe(extensions(OPENSSL_CA.cert).ski);
    }
  });

  it('refuses a bad issuer or profile, naming what is wrong', async () => {
    const ca = await issueCertificate(CA_PROFILE);
    const leaf = await issueCertificate(LEAF_PROFILE, ca);
    await expect(issueCertificate(LEAF_PROFILE, { cert: ca.cert, key: OPENSSL_CA.key })).rejects.toThrow(
      "issuer key: does not match the issuer certificate's public key",
    );
    await expect(issueCertificate(LEAF_PROFILE, leaf)).rejects.toThrow('issuer cert: not a CA certificate');
    await expect(issueCertificate(LEAF_PROFILE, { cert: 'junk', key: ca.key })).rejects.toThrow(
      'issuer cert: not a PEM certificate',
    );
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    await expect(issueCertificate(LEAF_PROFILE, { cert: ca.cert, key: rsa.toString() })).rejects.toThrow(
      'issuer key: an rsa key, not ECDSA P-256',
    );
    // After a failure the good CA still signs (the failure is not remembered).
    await expect(issueCertificate(LEAF_PROFILE, ca)).resolves.toHaveProperty('cert');
    await expect(issueCertificate({ ...LEAF_PROFILE, validDays: 0 }, ca)).rejects.toThrow(
      'validDays must be a positive number of days, got 0',
    );
    await expect(issueCertificate({ ...LEAF_PROFILE, commonName: '' }, ca)).rejects.toThrow(
      'commonName is empty',
    );
    await expect(issueCertificate({ ...LEAF_PROFILE, keyUsages: [] }, ca)).rejects.toThrow(
      'keyUsages is empty',
    );
  });
});

describe('createCertificateRequest', () => {
  it('makes a signed PKCS#10 CSR naming the server as CN and the only DNS name, from a SEC1 key', async () => {
    const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    const pem = await createCertificateRequest(
      key.export({ type: 'sec1', format: 'pem' }).toString(),
      'db.example.com',
    );
    expect(pem).toMatch(
      /^-----BEGIN CERTIFICATE REQUEST-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE REQUEST-----\n$/,
    );
    const csr = new peculiar.Pkcs10CertificateRequest(pem);
    expect(await csr.verify()).toBe(true);
    expect(csr.subject).toBe('CN=db.example.com');
    expect(csr.signatureAlgorithm).toMatchObject({ name: 'ECDSA', hash: { name: 'SHA-256' } });
    const san = csr.extensions.find((e) => e instanceof peculiar.SubjectAlternativeNameExtension);
    expect(san?.names.toJSON()).toEqual([{ type: 'dns', value: 'db.example.com' }]);
    // Signed by this key: the CSR's public key is its public half.
    const spki = Buffer.from(csr.publicKey.rawData);
    expect(createPublicKey({ key: spki, format: 'der', type: 'spki' }).equals(createPublicKey(key))).toBe(
      true,
    );
  });

  it('refuses an empty name and a key that is not P-256', async () => {
    const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    await expect(
      createCertificateRequest(key.export({ type: 'pkcs8', format: 'pem' }).toString(), ''),
    ).rejects.toThrow('commonName is empty');
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey;
    await expect(
      createCertificateRequest(p384.export({ type: 'pkcs8', format: 'pem' }).toString(), 'x'),
    ).rejects.toThrow('CSR key: an ec key, not ECDSA P-256');
  });
});
