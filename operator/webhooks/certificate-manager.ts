/**
 * Keeps the webhook serving certificate valid: loads it from a Secret (creating it if missing),
 * regenerates it before expiry, and patches the caBundle of our webhook configurations. Replicas race
 * safely: Secret writes use resourceVersion preconditions and a loser adopts the winner's certificate.
 * With cert-manager, `CertificateDirWatcher` serves its mounted files and its CA injector sets caBundle.
 */
import type { V1Secret } from '@kubernetes/client-node';
// Deep imports: client-node's index loads every generated API (kube/kube-connection.ts).
import { setHeaderOptions } from '@kubernetes/client-node/dist/middleware.js';
import { PatchStrategy } from '@kubernetes/client-node/dist/patch.js';
import { isAlreadyExists, isConflict, unlessNotFound, type AdmissionApi, type CoreApi } from '../../kube';
import { type Clock, type Logger, type TimerHandle } from '../controller-kit';
import { generateWebhookCertificates, isFresh, type CertificateRequest } from './certificates';
import { MUTATING_CONFIGURATION_NAME, VALIDATING_CONFIGURATION_NAME } from './webhook-paths';
import type { ServingCertificate } from './webhook-server';

const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);

export interface ManagedCertificate extends ServingCertificate {
  readonly caBundle: string;
}

export interface CertificateManagerOptions {
  readonly core: CoreApi;
  readonly admission: AdmissionApi;
  readonly namespace: string;
  readonly secretName: string;
  readonly request: CertificateRequest;
  /** Rotate when the certificate expires within this long (default: a third of its validity). */
  readonly renewBeforeMs?: number;
  /** How often to check for rotation (default 1 h). */
  readonly checkEveryMs?: number;
  readonly clock: Clock;
  readonly log: Logger;
  readonly onRotated: (cert: ManagedCertificate) => void;
}

export class CertificateManager {
  private timer: TimerHandle | undefined;
  private current: ManagedCertificate | undefined;

  constructor(private readonly o: CertificateManagerOptions) {}

  private get renewBeforeMs(): number {
    return this.o.renewBeforeMs ?? (this.o.request.validDays * 86_400_000) / 3;
  }

  /** Loads or creates the certificate and publishes its CA to the webhook configurations. */
  async start(): Promise<ManagedCertificate> {
    const cert = await this.ensure();
    this.schedule();
    return cert;
  }

  stop(): void {
    this.timer?.cancel();
  }

  private schedule(): void {
    this.timer = this.o.clock.setTimer(this.o.checkEveryMs ?? 3_600_000, () => {
      this.ensure()
        .catch((err: unknown) => this.o.log.error({ err: String(err) }, 'webhook certificate check failed'))
        .finally(() => this.schedule());
    });
  }

  async ensure(): Promise<ManagedCertificate> {
    const { core, namespace, secretName } = this.o;
    const secret = await unlessNotFound(core.readNamespacedSecret({ name: secretName, namespace }));
    let cert = secret ? fromSecret(secret) : undefined;
    if (!cert || !isFresh(cert.cert, this.o.clock.now(), this.renewBeforeMs)) {
      cert = await this.rotate(secret, cert);
    }
    await this.publishCaBundle(cert.caBundle);
    if (this.current?.cert !== cert.cert) {
      this.current = cert;
      this.o.onRotated(cert);
    }
    return cert;
  }

  private async rotate(
    existing: V1Secret | undefined,
    previous: ManagedCertificate | undefined,
  ): Promise<ManagedCertificate> {
    const fresh = await generateWebhookCertificates(this.o.request);
    // Trust old and new CA during the switch, so in-flight API server connections keep working.
    const oldCa = previous && isFresh(previous.caBundle, this.o.clock.now(), 0) ? previous.caBundle : '';
    const next: ManagedCertificate = {
      cert: fresh.cert,
      key: fresh.key,
      caBundle: `${fresh.caCert}${oldCa}`,
    };
    const { core, namespace, secretName } = this.o;
    const body: V1Secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/tls',
      metadata: { name: secretName, namespace, resourceVersion: existing?.metadata?.resourceVersion },
      stringData: { 'tls.crt': next.cert, 'tls.key': next.key, 'ca.crt': next.caBundle },
    };
    try {
      if (existing) await core.replaceNamespacedSecret({ name: secretName, namespace, body });
      else await core.createNamespacedSecret({ namespace, body });
      this.o.log.info({ secret: `${namespace}/${secretName}` }, 'webhook certificate issued');
      return next;
    } catch (err) {
      if (!isConflict(err) && !isAlreadyExists(err)) throw err;
      // Another replica rotated first: use its certificate.
      const winner = fromSecret(await core.readNamespacedSecret({ name: secretName, namespace }));
      if (!winner) throw err;
      return winner;
    }
  }

  private async publishCaBundle(caBundle: string): Promise<void> {
    const value = Buffer.from(caBundle).toString('base64');
    const patchAll = async (
      read: () => Promise<{ webhooks?: Array<{ clientConfig: { caBundle?: string } }> }>,
      patch: (body: object[]) => Promise<unknown>,
    ): Promise<void> => {
      const config = await unlessNotFound(read());
      if (!config) return;
      const ops = (config.webhooks ?? [])
        .map((w, i) =>
          w.clientConfig.caBundle === value
            ? undefined
            : { op: 'add', path: `/webhooks/${i}/clientConfig/caBundle`, value },
        )
        .filter((op): op is { op: string; path: string; value: string } => op !== undefined);
      if (ops.length > 0) await patch(ops);
    };
    const a = this.o.admission;
    await patchAll(
      () => a.readMutatingWebhookConfiguration({ name: MUTATING_CONFIGURATION_NAME }),
      (body) => a.patchMutatingWebhookConfiguration({ name: MUTATING_CONFIGURATION_NAME, body }, jsonPatch),
    );
    await patchAll(
      () => a.readValidatingWebhookConfiguration({ name: VALIDATING_CONFIGURATION_NAME }),
      (body) =>
        a.patchValidatingWebhookConfiguration({ name: VALIDATING_CONFIGURATION_NAME, body }, jsonPatch),
    );
  }
}

function fromSecret(secret: V1Secret): ManagedCertificate | undefined {
  const get = (k: string): string => Buffer.from(secret.data?.[k] ?? '', 'base64').toString('utf8');
  const cert = get('tls.crt');
  const key = get('tls.key');
  const caBundle = get('ca.crt');
  return cert && key && caBundle ? { cert, key, caBundle } : undefined;
}
