/**
 * RBAC of the operator, least privilege: upstream's `neonvm-manager-role` (§7) without wildcard or
 * collection verbs, without create/delete on VMs (the operator never creates them), with the
 * webhook-configuration patch right limited by resourceNames to NeonVM's own two objects, and with
 * no list or watch of Secrets: RBAC cannot scope a list/watch to a label, so even a label-filtered
 * Secret informer would need the right to read every Secret of the cluster. The operator reads the
 * Secrets it names by GET (runner token, SSH keys, migration and guest TLS, webhook and migration CA),
 * in whatever namespace the VM lives, which RBAC can only grant cluster-wide. Leader election uses
 * Leases only (controller-runtime dropped the ConfigMap lock), so no ConfigMap access.
 *
 * Each permission is listed under the part of the operator that needs it (kubebuilder puts its
 * `+kubebuilder:rbac` markers on the reconciler; constructs/ cannot import the operator, so the parts
 * are named here, with the file that uses them).
 */
import type { PolicyRule as V1PolicyRule } from 'kubernetes-types/rbac/v1';
import { GROUP, IP_POOL, VIRTUAL_MACHINE, VIRTUAL_MACHINE_MIGRATION } from '../../crds';
import type { KubeObject } from '../kube-object';
import { INSTALL_NAMES, OPERATOR_LABELS, type CertificateMode } from './install-options';

const READ = ['get', 'list', 'watch'];
const vm = VIRTUAL_MACHINE.plural;
const migration = VIRTUAL_MACHINE_MIGRATION.plural;
const EVENTS: V1PolicyRule[] = [
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
  { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
];

export interface OperatorPermission {
  /** The part of the operator and the code that uses these rules. */
  readonly part: string;
  readonly rules: readonly V1PolicyRule[];
}

/** The operator's cluster-wide permissions, per part. */
export function operatorPermissions(certificates: CertificateMode): OperatorPermission[] {
  const parts: OperatorPermission[] = [
    {
      part: 'VM controller (operator/controllers/virtual-machine-reconciler.ts, pod-ops.ts)',
      rules: [
        { apiGroups: [GROUP], resources: [vm], verbs: [...READ, 'update', 'patch'] },
        { apiGroups: [GROUP], resources: [`${vm}/status`], verbs: ['get', 'update', 'patch'] },
        { apiGroups: [GROUP], resources: [`${vm}/finalizers`], verbs: ['update'] },
        // Runner pods: the informer is label-filtered (vm.neon.tech/name).
        { apiGroups: [''], resources: ['pods'], verbs: [...READ, 'create', 'patch', 'delete'] },
        ...EVENTS,
      ],
    },
    {
      part: 'per-VM Secrets: runner token, SSH keys, migration TLS and its CA (operator/controllers/runner-secrets.ts, operator/migration-tls)',
      // Read and written by name only: no list, no watch.
      rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'create', 'update'] }],
    },
    {
      part: 'migration controller (operator/controllers/migration-reconciler.ts)',
      rules: [
        { apiGroups: [GROUP], resources: [migration], verbs: [...READ, 'update', 'patch'] },
        { apiGroups: [GROUP], resources: [`${migration}/status`], verbs: ['get', 'update', 'patch'] },
        { apiGroups: [GROUP], resources: [`${migration}/finalizers`], verbs: ['update'] },
      ],
    },
    {
      part: 'spec.tls controller (operator/tls): key and TLS Secrets by name, CertificateRequests from a ClusterIssuer',
      rules: [
        { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'create', 'update', 'delete'] },
        {
          apiGroups: ['cert-manager.io'],
          resources: ['certificaterequests'],
          verbs: [...READ, 'create', 'delete'],
        },
        { apiGroups: [GROUP], resources: [`${vm}/status`], verbs: ['patch'] },
      ],
    },
    {
      part: 'overlay IPAM (operator/ipam)',
      rules: [
        { apiGroups: ['k8s.cni.cncf.io'], resources: ['network-attachment-definitions'], verbs: ['get'] },
        { apiGroups: [GROUP], resources: [IP_POOL.plural], verbs: [...READ, 'create', 'update', 'patch'] },
      ],
    },
  ];
  if (certificates === 'self-managed')
    parts.push({
      part: 'self-managed webhook certificate (operator/webhooks/certificate-manager.ts): caBundle of its own two configurations; its Secret is covered above',
      rules: [
        {
          apiGroups: ['admissionregistration.k8s.io'],
          resources: ['mutatingwebhookconfigurations'],
          resourceNames: [INSTALL_NAMES.mutatingWebhook],
          verbs: ['get', 'update', 'patch'],
        },
        {
          apiGroups: ['admissionregistration.k8s.io'],
          resources: ['validatingwebhookconfigurations'],
          resourceNames: [INSTALL_NAMES.validatingWebhook],
          verbs: ['get', 'update', 'patch'],
        },
      ],
    });
  return parts;
}

/** The ClusterRole's rules: every part's, with rules for the same resources merged. */
export function managerRules(certificates: CertificateMode): V1PolicyRule[] {
  const merged: V1PolicyRule[] = [];
  for (const rule of operatorPermissions(certificates).flatMap((p) => p.rules)) {
    const key = (r: V1PolicyRule) =>
      JSON.stringify([r.apiGroups, r.resources, r.resourceNames ?? null, r.nonResourceURLs ?? null]);
    const same = merged.find((r) => key(r) === key(rule));
    if (same) same.verbs = [...new Set([...same.verbs, ...rule.verbs])];
    else merged.push({ ...rule, verbs: [...rule.verbs] });
  }
  return merged;
}

export function buildOperatorRbac(namespace: string, certificates: CertificateMode): KubeObject[] {
  const labels = { ...OPERATOR_LABELS };
  const subject = { kind: 'ServiceAccount', name: INSTALL_NAMES.serviceAccount, namespace };
  return [
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: INSTALL_NAMES.serviceAccount, namespace, labels },
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: INSTALL_NAMES.managerRole, labels },
      rules: managerRules(certificates),
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: `${INSTALL_NAMES.managerRole}binding`, labels },
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: INSTALL_NAMES.managerRole,
      },
      subjects: [subject],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: INSTALL_NAMES.leaderElectionRole, namespace, labels },
      rules: [
        // Leader election (operator/controller-kit/kube-lease-store.ts): read, create, renew.
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
        { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
      ] satisfies V1PolicyRule[],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: `${INSTALL_NAMES.leaderElectionRole}binding`, namespace, labels },
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'Role',
        name: INSTALL_NAMES.leaderElectionRole,
      },
      subjects: [subject],
    },
  ];
}

/** Built-in roles the VM editor role may be aggregated into. */
export type AggregationTarget = 'edit' | 'admin';

/**
 * Editor and viewer roles for VMs and migrations. Viewers are aggregated into `view` (and so `edit`
 * and `admin`). The editor roles are aggregated into `edit`/`admin` only when asked: upstream
 * aggregates them, which lets every namespace editor create VMs — runner pods with NET_ADMIN and
 * SYS_ADMIN — so without an opt-in, bind `neonvm-virtualmachine-editor-role` to who should have it.
 */
export function buildAggregatedRoles(aggregateEditorsTo: readonly AggregationTarget[] = []): KubeObject[] {
  return [VIRTUAL_MACHINE, VIRTUAL_MACHINE_MIGRATION].flatMap((info): KubeObject[] => {
    const base = `neonvm-${info.kind.toLowerCase()}`;
    const aggregation = Object.fromEntries(
      aggregateEditorsTo.map((role) => [`rbac.authorization.k8s.io/aggregate-to-${role}`, 'true']),
    );
    return [
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: {
          name: `${base}-editor-role`,
          labels: { 'app.kubernetes.io/part-of': 'neonvm', ...aggregation },
        },
        rules: [
          {
            apiGroups: [GROUP],
            resources: [info.plural],
            verbs: [...READ, 'create', 'update', 'patch', 'delete', 'deletecollection'],
          },
          { apiGroups: [GROUP], resources: [`${info.plural}/status`], verbs: ['get'] },
        ],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: {
          name: `${base}-viewer-role`,
          labels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' },
        },
        rules: [
          { apiGroups: [GROUP], resources: [info.plural], verbs: READ },
          { apiGroups: [GROUP], resources: [`${info.plural}/status`], verbs: ['get'] },
        ],
      },
    ];
  });
}
