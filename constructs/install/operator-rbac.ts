/**
 * RBAC of the operator, least privilege: upstream's `neonvm-manager-role` (§7) without wildcard or
 * collection verbs, without create/delete on VMs (the operator never creates them), and with the
 * webhook-configuration patch right limited by resourceNames to NeonVM's own two objects. Leader
 * election uses Leases only (controller-runtime dropped the ConfigMap lock), so no ConfigMap access.
 */
import type { PolicyRule as V1PolicyRule } from 'kubernetes-types/rbac/v1';
import { GROUP, IP_POOL, VIRTUAL_MACHINE, VIRTUAL_MACHINE_MIGRATION } from '../../crds';
import type { KubeObject } from '../kube-object';
import { INSTALL_NAMES, OPERATOR_LABELS, type CertificateMode } from './install-options';

const READ = ['get', 'list', 'watch'];
const vmKinds = [VIRTUAL_MACHINE.plural, VIRTUAL_MACHINE_MIGRATION.plural];

export function managerRules(certificates: CertificateMode): V1PolicyRule[] {
  const rules: V1PolicyRule[] = [
    { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
    { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
    { apiGroups: [''], resources: ['pods'], verbs: [...READ, 'create', 'update', 'patch', 'delete'] },
    { apiGroups: [''], resources: ['pods/status'], verbs: ['get'] },
    // SSH key and TLS secrets of VMs, in the VMs' namespaces.
    { apiGroups: [''], resources: ['secrets'], verbs: [...READ, 'create', 'update', 'patch', 'delete'] },
    { apiGroups: ['k8s.cni.cncf.io'], resources: ['network-attachment-definitions'], verbs: READ },
    { apiGroups: [GROUP], resources: [IP_POOL.plural], verbs: [...READ, 'create', 'update', 'patch'] },
    { apiGroups: [GROUP], resources: vmKinds, verbs: [...READ, 'update', 'patch'] },
    { apiGroups: [GROUP], resources: vmKinds.map((k) => `${k}/status`), verbs: ['get', 'update', 'patch'] },
    { apiGroups: [GROUP], resources: vmKinds.map((k) => `${k}/finalizers`), verbs: ['update'] },
    // spec.tls: the operator requests guest certificates from a ClusterIssuer.
    {
      apiGroups: ['cert-manager.io'],
      resources: ['certificaterequests'],
      verbs: [...READ, 'create', 'delete'],
    },
  ];
  if (certificates === 'self-managed') {
    rules.push(
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
    );
  }
  return rules;
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
        {
          apiGroups: ['coordination.k8s.io'],
          resources: ['leases'],
          verbs: [...READ, 'create', 'update', 'patch', 'delete'],
        },
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

/** Upstream's aggregated editor/viewer roles: namespace admins and editors get VMs through edit/admin. */
export function buildAggregatedRoles(): KubeObject[] {
  return [VIRTUAL_MACHINE, VIRTUAL_MACHINE_MIGRATION].flatMap((info): KubeObject[] => {
    const base = `neonvm-${info.kind.toLowerCase()}`;
    return [
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: {
          name: `${base}-editor-role`,
          labels: {
            'rbac.authorization.k8s.io/aggregate-to-edit': 'true',
            'rbac.authorization.k8s.io/aggregate-to-admin': 'true',
          },
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
