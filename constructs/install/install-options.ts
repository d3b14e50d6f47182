/**
 * Options of the NeonVM install bundle, and their resolution. Only install topology lives here
 * (names, images, replicas); nothing of the NeonVM API, which `crds/` owns.
 */
import type { ResourceRequirements as V1ResourceRequirements } from 'kubernetes-types/core/v1';
import type { AdmissionPolicy } from '../../crds';
import type { OverlayNetworkOptions } from '../network-objects';
import type { AggregationTarget } from './operator-rbac';
import type { RunnerNetworkPolicyOptions } from './runner-network-policy';

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

/** The device plugin DaemonSet that offers `neonvm/kvm` and `neonvm/vhost-net` on every node. */
export interface DevicePluginOptions {
  /**
   * Virtual devices per resource: how many VM pods of one node may hold each at once.
   * @default 1000
   */
  readonly devicesPerResource?: number;
  /**
   * Only nodes with these labels run it (and so offer the resources), e.g. the nodes meant for VMs.
   * @default - every Linux node
   */
  readonly nodeSelector?: Readonly<Record<string, string>>;
  /**
   * @default 'system-node-critical'
   */
  readonly priorityClassName?: string;
  /**
   * Container resources.
   * @default - requests 10m CPU / 80Mi, limit 160Mi (measured: 66 MB resident with 2 × 1000 devices)
   */
  readonly resources?: V1ResourceRequirements;
  /** More arguments (e.g. `--optional-device=neonvm/tun=/dev/net/tun`), after the defaults. */
  readonly extraArgs?: readonly string[];
}

/**
 * The VXLAN controller DaemonSet (upstream's `neonvm-vxlan-controller`): on every node the overlay's
 * bridge and a VXLAN tunnel to each other node. Runs from the runner image.
 */
export interface VxlanControllerOptions {
  /**
   * VXLAN network identifier.
   * @default 100
   */
  readonly vni?: number;
  /**
   * UDP port of the tunnels (open it between nodes).
   * @default 4789
   */
  readonly port?: number;
  /**
   * Only nodes with these labels join the overlay, e.g. the nodes meant for VMs.
   * @default - every Linux node
   */
  readonly nodeSelector?: Readonly<Record<string, string>>;
  /**
   * @default 'system-node-critical'
   */
  readonly priorityClassName?: string;
  /**
   * Container resources.
   * @default - requests 10m CPU / 96Mi, limit 256Mi (measured: 57-60 MiB working set on a 2-node cluster)
   */
  readonly resources?: V1ResourceRequirements;
  /** More arguments (e.g. `--no-iptables`, `--resync-interval=1m`), after the defaults. */
  readonly extraArgs?: readonly string[];
}

export interface NeonVmInstallOptions {
  /** Operator image. */
  readonly image: string;
  /** Runner image for VM pods (`VM_RUNNER_IMAGE`). */
  readonly runnerImage: string;
  /**
   * Device plugin image (`neonvm-device-plugin`); required unless `devicePlugin` is `false`.
   */
  readonly devicePluginImage?: string;
  /**
   * The device plugin DaemonSet. The operator requests `neonvm/kvm` and `neonvm/vhost-net` for runner
   * pods (unless run with `--no-device-plugin-resources`), so without this plugin — or another one
   * offering those names, such as upstream's generic device plugin — every VM stays Pending.
   * `false` installs none.
   * @default - installed, with the defaults of DevicePluginOptions
   */
  readonly devicePlugin?: DevicePluginOptions | false;
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
   * Which VirtualMachine fields that run code with node privileges the operator's webhook accepts
   * (`spec.runnerImage`, `spec.guest.kernelImage`, `spec.initScript`, `spec.extraInitContainers`,
   * extended resources in `spec.podResources`, networks of other namespaces, certificate issuers).
   * Rendered as operator flags after `args`.
   * @default - all of them refused (only the operator's own runner image and kernel)
   */
  readonly admission?: AdmissionPolicy;
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
   * The VXLAN controller that makes the overlay's bridge (`network.bridge`) on every node and joins
   * the nodes by VXLAN; `false` for none (the bridges are then someone else's job).
   * @default - installed with the overlay network (none when `network` is `false`)
   */
  readonly vxlanController?: VxlanControllerOptions | false;
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
   * Aggregate the VM and migration editor roles into these built-in roles. Upstream aggregates them
   * into `edit` and `admin`; here nobody can create VMs until you opt in or bind
   * `neonvm-virtualmachine-editor-role` (and `neonvm-virtualmachinemigration-editor-role`) yourself.
   * @default - none
   */
  readonly aggregateVmEditorTo?: readonly AggregationTarget[];
  /**
   * The runner pods' NetworkPolicy (runner API only from the operator, migration port only from
   * runner pods), one per namespace holding VMs; `false` for none.
   * @default - in the `default` namespace
   */
  readonly networkPolicy?: RunnerNetworkPolicyOptions | false;
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
  '--failing-refresh-interval=15s',
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
  devicePlugin: 'neonvm-device-plugin',
  vxlanController: 'neonvm-vxlan-controller',
} as const;

export const OPERATOR_LABELS: Readonly<Record<string, string>> = {
  'app.kubernetes.io/name': 'neonvm-controller',
  'app.kubernetes.io/part-of': 'neonvm',
  'control-plane': 'controller',
};

export const PORTS = { metrics: 8080, health: 8081, webhook: 9443 } as const;
export const WEBHOOK_CERT_DIR = '/tmp/k8s-webhook-server/serving-certs';
