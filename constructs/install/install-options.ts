/**
 * Options of the NeonVM install bundle, and their resolution. Only install topology lives here
 * (names, images, replicas); nothing of the NeonVM API, which `crds/` owns.
 */
import type { V1ResourceRequirements } from '@kubernetes/client-node';
import type { OverlayNetworkOptions } from '../network-objects';

/** How the webhook serving certificate is issued. */
export type CertificateMode =
  /** The operator generates a CA and serving certificate into the webhook Secret and patches the caBundle. */
  | 'self-managed'
  /** cert-manager issues it (Issuer + Certificate) and injects the caBundle (`cert-manager.io/inject-ca-from`). */
  | 'cert-manager';

export interface MultusOptions {
  /**
   * @default 'ghcr.io/k8snetworkplumbingwg/multus-cni:v3.9.2'
   */
  readonly image?: string;
  /**
   * CNI configuration file Multus delegates to for the primary network (as upstream's eks/aks variants).
   * @default - the first file in /etc/cni/net.d
   */
  readonly delegateConfig?: string;
}

export interface WhereaboutsOptions {
  /**
   * @default 'ghcr.io/k8snetworkplumbingwg/whereabouts:v0.6.2'
   */
  readonly image?: string;
}

export interface NeonVmInstallOptions {
  /** Operator image. */
  readonly image: string;
  /** Runner image for VM pods (`VM_RUNNER_IMAGE`). */
  readonly runnerImage: string;
  /**
   * @default 'neonvm-system'
   */
  readonly namespace?: string;
  /**
   * Operator replicas (leader-elected).
   * @default 1
   */
  readonly replicas?: number;
  /**
   * Operator arguments.
   * @default DEFAULT_OPERATOR_ARGS
   */
  readonly args?: readonly string[];
  /**
   * Operator container resources.
   * @default - none (set them for production; upstream ships 2 CPU / 1Gi requests)
   */
  readonly resources?: V1ResourceRequirements;
  /**
   * @default 'IfNotPresent'
   */
  readonly imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /**
   * Webhook serving certificate.
   * @default 'self-managed'
   */
  readonly certificates?: CertificateMode;
  /**
   * The overlay network attachment definitions; `false` for none (the operator then needs NADs installed otherwise).
   * @default - upstream's (10.100.0.0/16 on bridge neon-br0)
   */
  readonly network?: OverlayNetworkOptions | false;
  /**
   * Install Multus (CRD, RBAC, DaemonSet in kube-system).
   * @default false
   */
  readonly multus?: MultusOptions | boolean;
  /**
   * Install Whereabouts (CRDs, RBAC, DaemonSet in kube-system).
   * @default false
   */
  readonly whereabouts?: WhereaboutsOptions | boolean;
  /**
   * Annotate ArgoCD sync waves: CRDs -2, everything else -1.
   * @default false
   */
  readonly syncWaves?: boolean;
}

/** Upstream's shipped controller flags (§3.1), minus the runner-specific tuning. */
export const DEFAULT_OPERATOR_ARGS: readonly string[] = [
  '--leader-elect',
  '--metrics-bind-address=:8080',
  '--health-probe-bind-address=:8081',
  '--concurrency-limit=128',
  '--default-cpu-scaling-mode=QmpScaling',
];

/** Fixed names (upstream's, after kustomize's `neonvm-` prefix). */
export const INSTALL_NAMES = {
  serviceAccount: 'neonvm-controller',
  managerRole: 'neonvm-manager-role',
  webhookCertRole: 'neonvm-webhook-cert-role',
  leaderElectionRole: 'neonvm-leader-election-role',
  deployment: 'neonvm-controller',
  webhookService: 'neonvm-webhook-service',
  webhookSecret: 'webhook-server-cert',
  mutatingWebhook: 'neonvm-mutating-webhook-configuration',
  validatingWebhook: 'neonvm-validating-webhook-configuration',
  issuer: 'neonvm-selfsigned-issuer',
  certificate: 'neonvm-serving-cert',
} as const;

export const OPERATOR_LABELS: Readonly<Record<string, string>> = {
  'app.kubernetes.io/name': 'neonvm-controller',
  'app.kubernetes.io/part-of': 'neonvm',
  'control-plane': 'controller',
};

export const PORTS = { metrics: 8080, health: 8081, webhook: 9443 } as const;
export const WEBHOOK_CERT_DIR = '/tmp/k8s-webhook-server/serving-certs';
