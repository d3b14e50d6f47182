/**
 * Admission webhooks (upstream names and paths, §2) and what serves them: the Service (443 → 9443)
 * and, in cert-manager mode, the self-signed Issuer and the serving Certificate. In self-managed mode
 * the configurations ship without a caBundle; the operator patches it in once it has generated the
 * certificate (its RBAC allows exactly these two objects).
 */
import type {
  MutatingWebhook as V1MutatingWebhook,
  ValidatingWebhook as V1ValidatingWebhook,
} from 'kubernetes-types/admissionregistration/v1';
import { GROUP, VERSION, VIRTUAL_MACHINE, VIRTUAL_MACHINE_MIGRATION, type KindInfo } from '../../crds';
import type { KubeObject } from '../kube-object';
import { INSTALL_NAMES, OPERATOR_LABELS, PORTS, type CertificateMode } from './install-options';

export const CA_INJECTION_ANNOTATION = 'cert-manager.io/inject-ca-from';

interface WebhookEntry {
  readonly name: string;
  readonly path: string;
  readonly kind: KindInfo;
}

/** `mvirtualmachine.kb.io` → `/mutate-vm-neon-tech-v1-virtualmachine`, as controller-runtime names them. */
function entries(prefix: 'm' | 'v', verb: 'mutate' | 'validate'): WebhookEntry[] {
  return [VIRTUAL_MACHINE, VIRTUAL_MACHINE_MIGRATION].map((kind) => {
    const lower = kind.kind.toLowerCase();
    return {
      name: `${prefix}${lower}.kb.io`,
      path: `/${verb}-${GROUP.replace(/\./g, '-')}-${VERSION}-${lower}`,
      kind,
    };
  });
}

export const MUTATING_WEBHOOKS = entries('m', 'mutate');
export const VALIDATING_WEBHOOKS = entries('v', 'validate');

/**
 * kubernetes-types 1.30.0 flattens RuleWithOperations without the embedded Rule's `resources` and
 * `scope`; the API has them (admissionregistration/v1 RuleWithOperations embeds Rule).
 */
type Webhook = Omit<V1MutatingWebhook & V1ValidatingWebhook, 'rules'> & {
  rules?: Array<NonNullable<V1ValidatingWebhook['rules']>[number] & { resources?: string[]; scope?: string }>;
};

function webhook(namespace: string, e: WebhookEntry): Webhook {
  return {
    name: e.name,
    admissionReviewVersions: ['v1'],
    clientConfig: { service: { name: INSTALL_NAMES.webhookService, namespace, path: e.path, port: 443 } },
    failurePolicy: 'Fail',
    sideEffects: 'None',
    timeoutSeconds: 10,
    rules: [
      {
        apiGroups: [GROUP],
        apiVersions: [VERSION],
        operations: ['CREATE', 'UPDATE'],
        resources: [e.kind.plural],
      },
    ],
  };
}

export function buildWebhooks(namespace: string, certificates: CertificateMode): KubeObject[] {
  const labels = { 'app.kubernetes.io/part-of': 'neonvm' };
  const annotations: Record<string, string> =
    certificates === 'cert-manager'
      ? { [CA_INJECTION_ANNOTATION]: `${namespace}/${INSTALL_NAMES.certificate}` }
      : {};
  const objects: KubeObject[] = [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: INSTALL_NAMES.webhookService, namespace, labels },
      spec: {
        ports: [{ name: 'webhook', port: 443, protocol: 'TCP', targetPort: PORTS.webhook }],
        selector: { 'control-plane': OPERATOR_LABELS['control-plane'] },
      },
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name: INSTALL_NAMES.mutatingWebhook, labels, annotations },
      webhooks: MUTATING_WEBHOOKS.map((e) => webhook(namespace, e)),
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name: INSTALL_NAMES.validatingWebhook, labels, annotations },
      webhooks: VALIDATING_WEBHOOKS.map((e) => webhook(namespace, e)),
    },
  ];
  if (certificates === 'cert-manager') objects.push(...buildCertManagerObjects(namespace));
  return objects;
}

export function buildCertManagerObjects(namespace: string): KubeObject[] {
  const service = `${INSTALL_NAMES.webhookService}.${namespace}.svc`;
  return [
    {
      apiVersion: 'cert-manager.io/v1',
      kind: 'Issuer',
      metadata: { name: INSTALL_NAMES.issuer, namespace },
      spec: { selfSigned: {} },
    },
    {
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      metadata: { name: INSTALL_NAMES.certificate, namespace },
      spec: {
        dnsNames: [service, `${service}.cluster.local`],
        issuerRef: { kind: 'Issuer', name: INSTALL_NAMES.issuer },
        secretName: INSTALL_NAMES.webhookSecret,
      },
    },
  ];
}
