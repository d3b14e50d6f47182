/**
 * Optional third-party components NeonVM's overlay network needs: Multus (second pod interface) and
 * Whereabouts (IPAM for ordinary pods on the overlay). Their CRD schemas come from the typed shapes in
 * `crds/schema/third-party.ts`; the DaemonSets follow the upstream install manifests (§7) in reduced form.
 */
import type { TSchema } from '@sinclair/typebox';
import type { DaemonSetSpec as V1DaemonSetSpec } from 'kubernetes-types/apps/v1';
import type { PolicyRule as V1PolicyRule } from 'kubernetes-types/rbac/v1';
import {
  NetworkAttachmentDefinitionSchema,
  OverlappingRangeIpReservationSchema,
  WhereaboutsIpPoolSchema,
  type CustomResourceDefinition,
} from '../../crds';
import type { KubeObject } from '../kube-object';
import type { MultusOptions, WhereaboutsOptions } from './install-options';

const SYSTEM_NS = 'kube-system';

interface ForeignKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly plural: string;
  readonly shortNames?: string[];
  readonly schema: TSchema;
}

/** A CRD for a kind another project owns; the schema is the typed subset we read and write. */
export function foreignCrd(k: ForeignKind): CustomResourceDefinition & KubeObject {
  const schema = JSON.parse(
    JSON.stringify(k.schema),
  ) as CustomResourceDefinition['spec']['versions'][number]['schema']['openAPIV3Schema'];
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${k.plural}.${k.group}` },
    spec: {
      group: k.group,
      names: {
        kind: k.kind,
        listKind: `${k.kind}List`,
        plural: k.plural,
        singular: k.kind.toLowerCase(),
        ...(k.shortNames ? { shortNames: k.shortNames } : {}),
      },
      scope: 'Namespaced',
      versions: [
        {
          name: k.version,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { ...schema, type: 'object' } },
        },
      ],
    },
  };
}

function hostAgent(name: string, rules: V1PolicyRule[], daemonSet: V1DaemonSetSpec): KubeObject[] {
  const labels = { 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': 'neonvm' };
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: SYSTEM_NS, labels } },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name, labels }, rules },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace: SYSTEM_NS }],
    },
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name, namespace: SYSTEM_NS, labels },
      spec: daemonSet,
    },
  ];
}

function hostDaemonSet(
  name: string,
  container: NonNullable<V1DaemonSetSpec['template']['spec']>['containers'][number],
): V1DaemonSetSpec {
  const labels = { 'app.kubernetes.io/name': name };
  return {
    selector: { matchLabels: labels },
    updateStrategy: { type: 'RollingUpdate' },
    template: {
      metadata: { labels },
      spec: {
        hostNetwork: true,
        serviceAccountName: name,
        priorityClassName: 'system-node-critical',
        tolerations: [{ operator: 'Exists' }],
        nodeSelector: { 'kubernetes.io/os': 'linux' },
        containers: [container],
        volumes: [
          { name: 'cni-bin', hostPath: { path: '/opt/cni/bin' } },
          { name: 'cni-conf', hostPath: { path: '/etc/cni/net.d' } },
        ],
      },
    },
  };
}

const CNI_MOUNTS = [
  { name: 'cni-bin', mountPath: '/host/opt/cni/bin' },
  { name: 'cni-conf', mountPath: '/host/etc/cni/net.d' },
];

export function buildMultus(options: MultusOptions = {}): { crds: KubeObject[]; objects: KubeObject[] } {
  const crd = foreignCrd({
    group: 'k8s.cni.cncf.io',
    version: 'v1',
    kind: 'NetworkAttachmentDefinition',
    plural: 'network-attachment-definitions',
    shortNames: ['net-attach-def'],
    schema: NetworkAttachmentDefinitionSchema,
  });
  const args = [
    '--multus-conf-file=auto',
    '--cni-version=0.3.1',
    '--multus-kubeconfig-file-host=/etc/cni/net.d/multus.d/multus.kubeconfig',
  ];
  if (options.delegateConfig) args.push(`--multus-master-cni-file-name=${options.delegateConfig}`);
  const objects = hostAgent(
    'multus',
    [
      { apiGroups: ['k8s.cni.cncf.io'], resources: ['*'], verbs: ['*'] },
      { apiGroups: [''], resources: ['pods', 'pods/status'], verbs: ['get', 'update'] },
      { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create', 'patch', 'update'] },
    ],
    hostDaemonSet('multus', {
      name: 'kube-multus',
      image: options.image ?? 'ghcr.io/k8snetworkplumbingwg/multus-cni:v3.9.2',
      command: ['/entrypoint.sh'],
      args,
      securityContext: { privileged: true },
      resources: { requests: { cpu: '100m', memory: '50Mi' }, limits: { cpu: '100m', memory: '50Mi' } },
      volumeMounts: CNI_MOUNTS,
    }),
  );
  return { crds: [crd], objects };
}

export function buildWhereabouts(options: WhereaboutsOptions = {}): {
  crds: KubeObject[];
  objects: KubeObject[];
} {
  const group = 'whereabouts.cni.cncf.io';
  const crds = [
    foreignCrd({
      group,
      version: 'v1alpha1',
      kind: 'IPPool',
      plural: 'ippools',
      schema: WhereaboutsIpPoolSchema,
    }),
    foreignCrd({
      group,
      version: 'v1alpha1',
      kind: 'OverlappingRangeIPReservation',
      plural: 'overlappingrangeipreservations',
      schema: OverlappingRangeIpReservationSchema,
    }),
  ];
  const objects = hostAgent(
    'whereabouts',
    [
      {
        apiGroups: [group],
        resources: ['ippools', 'overlappingrangeipreservations'],
        verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
      },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create', 'get', 'update'] },
      { apiGroups: [''], resources: ['pods', 'nodes'], verbs: ['list', 'watch', 'get'] },
      {
        apiGroups: ['k8s.cni.cncf.io'],
        resources: ['network-attachment-definitions'],
        verbs: ['get', 'list', 'watch'],
      },
      { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create', 'patch', 'update'] },
    ],
    hostDaemonSet('whereabouts', {
      name: 'whereabouts',
      image: options.image ?? 'ghcr.io/k8snetworkplumbingwg/whereabouts:v0.6.2',
      command: ['/bin/sh', '-c', 'SLEEP=false /install-cni.sh && /ip-control-loop -log-level debug'],
      env: [
        { name: 'NODENAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
        { name: 'WHEREABOUTS_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      ],
      securityContext: { privileged: true },
      resources: { requests: { cpu: '100m', memory: '100Mi' } },
      volumeMounts: CNI_MOUNTS,
    }),
  );
  return { crds, objects };
}
