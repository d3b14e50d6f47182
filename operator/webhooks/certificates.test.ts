import { X509Certificate } from 'node:crypto';
import { certificateNotAfter, generateWebhookCertificates, isFresh } from './certificates';

describe('webhook certificates (openssl)', () => {
  it('issues a serving certificate for the given names, signed by the returned CA', async () => {
    const c = await generateWebhookCertificates({
      dnsNames: ['svc.ns.svc'],
      ips: ['127.0.0.1'],
      validDays: 30,
    });
    const cert = new X509Certificate(c.cert);
    const ca = new X509Certificate(c.caCert);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.subjectAltName).toContain('DNS:svc.ns.svc');
    expect(cert.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(c.key).toContain('PRIVATE KEY');
    const days = (certificateNotAfter(c.cert).getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29);
    expect(isFresh(c.cert, Date.now(), 10 * 86_400_000)).toBe(true);
    expect(isFresh(c.cert, Date.now(), 31 * 86_400_000)).toBe(false);
    expect(isFresh('not a cert', Date.now(), 0)).toBe(false);
  });
});
