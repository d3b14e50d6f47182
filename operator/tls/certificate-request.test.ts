import 'reflect-metadata';
import { Pkcs10CertificateRequest } from '@peculiar/x509';
import { createCsr, generateEcPrivateKey } from './certificate-request';

describe('createCsr', () => {
  it("signs a CSR for spec.tls.serverName with the operator's SEC1 key", async () => {
    const key = generateEcPrivateKey();
    expect(key.startsWith('-----BEGIN EC PRIVATE KEY-----\n')).toBe(true);
    const csr = new Pkcs10CertificateRequest(await createCsr(key, 'db.example.com'));
    expect(await csr.verify()).toBe(true);
    expect(csr.subject).toBe('CN=db.example.com');
  });

  it('refuses an empty server name instead of sending a CSR without a name', async () => {
    await expect(createCsr(generateEcPrivateKey(), '')).rejects.toThrow(
      'serverName (spec.tls.serverName) is empty',
    );
  });
});
