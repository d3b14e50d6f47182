/**
 * Mutating/ValidatingWebhookConfiguration objects for our four webhooks, pointing either at a Service
 * (in-cluster) or at a URL (local runs: `https://127.0.0.1:<port>`).
 */
import type {
  AdmissionregistrationV1WebhookClientConfig,
  V1MutatingWebhookConfiguration,
  V1ValidatingWebhookConfiguration,
} from '@kubernetes/client-node';
import { GROUP, VERSION } from '../../crds';
import { MUTATING_CONFIGURATION_NAME, VALIDATING_CONFIGURATION_NAME, WEBHOOKS } from './webhook-paths';

export type WebhookTarget = { url: string } | { service: { namespace: string; name: string; port?: number } };

export interface WebhookConfigurationOptions {
  readonly target: WebhookTarget;
  /** PEM of the CA that signed the serving certificate. */
  readonly caBundle: string;
}

function clientConfig(
  target: WebhookTarget,
  path: string,
  caBundle: string,
): AdmissionregistrationV1WebhookClientConfig {
  const ca = Buffer.from(caBundle).toString('base64');
  if ('url' in target) return { url: `${target.url.replace(/\/+$/, '')}${path}`, caBundle: ca };
  return { service: { ...target.service, path, port: target.service.port ?? 443 }, caBundle: ca };
}

const common = (resource: string) => ({
  admissionReviewVersions: ['v1'],
  sideEffects: 'None',
  failurePolicy: 'Fail',
  timeoutSeconds: 10,
  rules: [
    { apiGroups: [GROUP], apiVersions: [VERSION], operations: ['CREATE', 'UPDATE'], resources: [resource] },
  ],
});

export function mutatingWebhookConfiguration(o: WebhookConfigurationOptions): V1MutatingWebhookConfiguration {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: MUTATING_CONFIGURATION_NAME },
    webhooks: [WEBHOOKS.mutateVirtualMachine, WEBHOOKS.mutateMigration].map((w) => ({
      name: w.name,
      clientConfig: clientConfig(o.target, w.path, o.caBundle),
      ...common(w.resource),
    })),
  };
}

export function validatingWebhookConfiguration(
  o: WebhookConfigurationOptions,
): V1ValidatingWebhookConfiguration {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: VALIDATING_CONFIGURATION_NAME },
    webhooks: [WEBHOOKS.validateVirtualMachine, WEBHOOKS.validateMigration].map((w) => ({
      name: w.name,
      clientConfig: clientConfig(o.target, w.path, o.caBundle),
      ...common(w.resource),
    })),
  };
}
