import { X509Certificate } from 'node:crypto';
import { get, createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { certificateNotAfter, generateWebhookCertificates, isFresh } from './certificates';

describe('webhook certificates', () => {
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

  it('serves HTTPS that a client trusting only the CA accepts, by IP and by DNS name', async () => {
    const c = await generateWebhookCertificates({
      dnsNames: ['svc.ns.svc'],
      ips: ['127.0.0.1'],
      validDays: 2,
    });
    const server = createServer({ cert: c.cert, key: c.key }, (_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    // What the API server does with caBundle: verify the chain and the name it dialled.
    const fetch = (servername?: string) =>
      new Promise<string>((resolve, reject) => {
        const opts = {
          host: '127.0.0.1',
          port,
          ca: c.caCert,
          ...(servername ? { servername } : {}),
          agent: false,
        };
        get(opts, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve(body));
        }).on('error', reject);
      });
    try {
      await expect(fetch()).resolves.toBe('ok');
      await expect(fetch('svc.ns.svc')).resolves.toBe('ok');
      await expect(fetch('other.ns.svc')).rejects.toThrow(/Hostname\/IP does not match/);
    } finally {
      server.close();
    }
  });

  it('refuses a request with no name or a bad IP', async () => {
    await expect(generateWebhookCertificates({ dnsNames: [], ips: [], validDays: 1 })).rejects.toThrow(
      'dnsNames and ips are both empty',
    );
    await expect(
      generateWebhookCertificates({ dnsNames: ['a'], ips: ['1.2.3'], validDays: 1 }),
    ).rejects.toThrow('ips: "1.2.3" is not an IP address');
  });
});
