/**
 * cert-manager mode: the serving certificate is a mounted Secret (`tls.crt`, `tls.key`, `ca.crt`) that
 * cert-manager renews in place. The kubelet swaps the files atomically (a new `..data` symlink), so a
 * change is one directory event; we also re-read on a timer, because inotify does not see every
 * volume type (and a missed event must not leave an expired certificate served until a restart —
 * upstream refused every VM write after a renewal, `failurePolicy: Fail`).
 */
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { errorFields, type Clock, type Logger, type TimerHandle } from '../controller-kit';
import type { ManagedCertificate } from './certificate-manager';

/** Certificates provided as files (cert-manager mounts `tls.crt`, `tls.key` and `ca.crt`). */
export async function readCertificateDir(dir: string): Promise<ManagedCertificate> {
  const [cert, key, caBundle] = await Promise.all(
    ['tls.crt', 'tls.key', 'ca.crt'].map((n) => readFile(join(dir, n), 'utf8').catch(() => '')),
  );
  if (!cert || !key) throw new Error(`no tls.crt/tls.key in ${dir}`);
  // A half-written pair (new certificate, old key) must not replace a working one.
  if (!new X509Certificate(cert).checkPrivateKey(createPrivateKey(key)))
    throw new Error(`tls.crt and tls.key in ${dir} do not belong together`);
  return { cert, key, caBundle };
}

export interface CertificateDirWatcherOptions {
  readonly dir: string;
  /** The certificate served now (read at start). */
  readonly current: ManagedCertificate;
  readonly onChange: (cert: ManagedCertificate) => void;
  /** Re-read this often even without a file event (default 60 s). */
  readonly pollMs?: number;
  readonly clock: Clock;
  readonly log: Logger;
}

export class CertificateDirWatcher {
  private watcher: FSWatcher | undefined;
  private timer: TimerHandle | undefined;
  private current: ManagedCertificate;
  private checking: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly o: CertificateDirWatcherOptions) {
    this.current = o.current;
  }

  start(): void {
    try {
      this.watcher = watch(this.o.dir, () => void this.check());
      this.watcher.on('error', (err) => this.o.log.warn({ ...errorFields(err) }, 'certificate watch failed'));
    } catch (err) {
      this.o.log.warn({ dir: this.o.dir, ...errorFields(err) }, 'cannot watch the certificate directory');
    }
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.watcher?.close();
    this.timer?.cancel();
  }

  /** Re-reads the files and hands a changed, consistent certificate on (exposed for tests). */
  check(): Promise<void> {
    this.checking ??= this.reload().finally(() => (this.checking = undefined));
    return this.checking;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.o.clock.setTimer(this.o.pollMs ?? 60_000, () => {
      void this.check().finally(() => this.schedule());
    });
  }

  private async reload(): Promise<void> {
    let next: ManagedCertificate;
    try {
      next = await readCertificateDir(this.o.dir);
    } catch (err) {
      // Mid-swap or broken: keep serving the current certificate; the next event or poll retries.
      this.o.log.warn({ dir: this.o.dir, ...errorFields(err) }, 'webhook certificate not reloaded');
      return;
    }
    if (next.cert === this.current.cert && next.key === this.current.key) return;
    this.current = next;
    this.o.log.info({ dir: this.o.dir }, 'webhook certificate reloaded');
    this.o.onChange(next);
  }
}
