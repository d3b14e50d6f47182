/**
 * The admission webhooks of one replica: the four routes, the serving certificate (cert-manager's
 * files, or self-managed in a Secret and rotated), the HTTPS server and — for local runs — the webhook
 * configurations pointing at it. Every replica serves webhooks, leader or not.
 */
import type { Clock } from '../../host';
import type { AdmissionApi, CoreApi, KubeObject } from '../../kube';
import type { EventRecorder, Logger } from '../controller-kit';
import type { AdmissionRequest } from './admission-review';
import { CertificateDirWatcher, readCertificateDir } from './certificate-files';
import { CertificateManager, type ManagedCertificate } from './certificate-manager';
import { ensureWebhookConfigurations } from './ensure-webhook-configurations';
import {
  mutateVirtualMachine,
  mutateVirtualMachineMigration,
  validateVirtualMachineHandler,
  validateVirtualMachineMigrationHandler,
  type PolicyOptions,
} from './handlers';
import { WEBHOOKS } from './webhook-paths';
import { WebhookServer } from './webhook-server';

export interface WebhookOptions {
  readonly port: number;
  readonly host?: string;
  /**
   * Use cert-manager's files (tls.crt, tls.key, ca.crt) from this directory instead of self-managed
   * ones; they are reloaded when they change.
   */
  readonly certDir?: string;
  /** How often the files in `certDir` are re-read besides file events (default 60 s). */
  readonly certReloadPollMs?: number;
  /** Self-managed: Secret holding the certificate (in the operator's namespace). */
  readonly secretName: string;
  /** DNS names / IPs for the self-managed serving certificate. */
  readonly dnsNames: readonly string[];
  readonly ips: readonly string[];
  /** Local runs: create the webhook configurations with `https://<urlHost>:<port>` URLs. */
  readonly urlHost?: string;
  readonly skipUpdateValidationFor?: ReadonlySet<string>;
  /** The admission policy for privileged VM fields (default: all refused). */
  readonly policy?: PolicyOptions;
}

export interface WebhookServingContext {
  /** Self-managed certificate Secret. */
  readonly core: CoreApi;
  /** caBundle patches; local runs create the configurations. */
  readonly admission: AdmissionApi;
  /** The operator's namespace (self-managed certificate Secret). */
  readonly namespace: string;
  /** Records `SkippedValidation` warnings on objects admitted by `--skip-update-validation-for`. */
  readonly events: EventRecorder;
  readonly clock: Clock;
  readonly log: Logger;
}

export interface WebhookServing {
  /** The port actually bound (tests bind port 0). */
  readonly port: number;
  stop(): Promise<void>;
}

/** Self-managed serving certificates are valid this long and rotated with a third of it left. */
export const SELF_MANAGED_VALID_DAYS = 365;

export async function serveWebhooks(w: WebhookOptions, ctx: WebhookServingContext): Promise<WebhookServing> {
  const validation = {
    skipUpdateValidationFor: w.skipUpdateValidationFor,
    onSkippedValidation: (request: AdmissionRequest) =>
      ctx.events.record(
        request.object as KubeObject,
        'Warning',
        'SkippedValidation',
        "Ignoring failed webhook validation because of controller's '--skip-update-validation-for' flag",
      ),
  };
  const routes = {
    [WEBHOOKS.mutateVirtualMachine.path]: mutateVirtualMachine,
    [WEBHOOKS.mutateMigration.path]: mutateVirtualMachineMigration,
    [WEBHOOKS.validateVirtualMachine.path]: validateVirtualMachineHandler(validation, w.policy),
    [WEBHOOKS.validateMigration.path]: validateVirtualMachineMigrationHandler(validation),
  };
  const admission = ctx.admission;
  // Rotation hands new certificates to the server, which is made once the first one is there.
  const serving: { server?: WebhookServer } = {};
  let certificates: CertificateManager | CertificateDirWatcher | undefined;
  let cert: ManagedCertificate;
  if (w.certDir) {
    cert = await readCertificateDir(w.certDir);
    // cert-manager renews the mounted Secret in place: serve the new files without a restart.
    certificates = new CertificateDirWatcher({
      dir: w.certDir,
      current: cert,
      onChange: (c) => serving.server?.setCertificate(c),
      pollMs: w.certReloadPollMs,
      clock: ctx.clock,
      log: ctx.log,
    });
    certificates.start();
  } else {
    certificates = new CertificateManager({
      core: ctx.core,
      admission,
      namespace: ctx.namespace,
      secretName: w.secretName,
      request: { dnsNames: w.dnsNames, ips: w.ips, validDays: SELF_MANAGED_VALID_DAYS },
      clock: ctx.clock,
      log: ctx.log,
      onRotated: (c) => serving.server?.setCertificate(c),
    });
    cert = await certificates.start();
  }
  const server = (serving.server = new WebhookServer(routes, cert, ctx.log));
  const port = await server.listen(w.port, w.host);
  const stop = async () => {
    certificates?.stop();
    await server.close();
  };
  try {
    if (w.urlHost)
      await ensureWebhookConfigurations(admission, `https://${w.urlHost}:${port}`, cert.caBundle);
  } catch (err) {
    await stop();
    throw err;
  }
  ctx.log.info({ port }, 'admission webhooks serving');
  return { port, stop };
}
