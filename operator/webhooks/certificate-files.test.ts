import { mkdtempSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { pollUntil, systemClock } from '../../host';
import { silentLogger } from '../controller-kit';
import { CertificateDirWatcher, readCertificateDir } from './certificate-files';
import { generateWebhookCertificates, type WebhookCertificates } from './certificates';
import { WebhookServer } from './webhook-server';

/** Writes a certificate set the way the kubelet updates a Secret volume: a new dir, then an atomic `..data` swap. */
function publish(dir: string, c: WebhookCertificates, version: number, key = c.key): void {
  const data = join(dir, `..v${version}`);
  mkdirSync(data);
  writeFileSync(join(data, 'tls.crt'), c.cert);
  writeFileSync(join(data, 'tls.key'), key);
  writeFileSync(join(data, 'ca.crt'), c.caCert);
  symlinkSync(`..v${version}`, join(dir, '..data_tmp'));
  renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  for (const f of ['tls.crt', 'tls.key', 'ca.crt']) {
    try {
      symlinkSync(join('..data', f), join(dir, f));
    } catch {
      // already linked through ..data
    }
  }
}

function servedCertificate(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const fingerprint = socket.getPeerCertificate().fingerprint256;
      socket.destroy();
      resolve(fingerprint);
    });
    socket.on('error', reject);
  });
}

describe('webhook certificates from files (cert-manager mode)', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'neonvm-cert-dir-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('serves a renewed certificate without a restart, and ignores a half-written pair', async () => {
    const req = { dnsNames: ['svc'], ips: ['127.0.0.1'], validDays: 30 };
    const [a, b] = await Promise.all([generateWebhookCertificates(req), generateWebhookCertificates(req)]);
    publish(dir, a, 1);
    const first = await readCertificateDir(dir);
    const server = new WebhookServer({}, first, silentLogger());
    const port = await server.listen(0, '127.0.0.1');
    const watcher = new CertificateDirWatcher({
      dir,
      current: first,
      onChange: (c) => server.setCertificate(c),
      pollMs: 60_000,
      clock: systemClock,
      log: silentLogger(),
    });
    watcher.start();
    try {
      const fingerprintA = await servedCertificate(port);
      // A new certificate with the old key (a broken renewal) is refused: A stays.
      publish(dir, b, 2, a.key);
      await watcher.check();
      expect(await servedCertificate(port)).toBe(fingerprintA);
      publish(dir, b, 3);
      const fingerprintB = await pollUntil(
        async () => {
          const f = await servedCertificate(port);
          return f !== fingerprintA ? f : undefined;
        },
        { timeoutMs: 10_000, intervalMs: 50, description: 'the renewed certificate served' },
      );
      expect(fingerprintB).not.toBe(fingerprintA);
    } finally {
      watcher.stop();
      await server.close();
    }
  });
});
