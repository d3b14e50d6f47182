/**
 * The VXLAN controller DaemonSet (`vxlan-controller/`; upstream's `neonvm-vxlan-controller`, §6): one
 * hostNetwork pod per node that makes the overlay's bridge (the one the overlay
 * NetworkAttachmentDefinitions name) and a VXLAN tunnel to every other node, from the Nodes it watches.
 * It runs from the runner image (which carries iproute2, iptables and the whole compiled project), so a
 * release has no fourth image. Least privilege instead of upstream's: root with only NET_ADMIN and
 * NET_RAW (upstream's capabilities too, but without dropping the rest), read-only root filesystem, and
 * the host's xtables lock shared (as kube-proxy does) so its iptables calls wait for the node's other
 * writers. Its own ServiceAccount may only read Nodes.
 */
import type { DaemonSetSpec as V1DaemonSetSpec } from 'kubernetes-types/apps/v1';
import type {
  Container as V1Container,
  ResourceRequirements as V1ResourceRequirements,
} from 'kubernetes-types/core/v1';
import type { KubeObject } from '../kube-object';
import { INSTALL_NAMES, type VxlanControllerOptions } from './install-options';

export const VXLAN_CONTROLLER_LABELS: Readonly<Record<string, string>> = {
  'app.kubernetes.io/name': INSTALL_NAMES.vxlanController,
  'app.kubernetes.io/part-of': 'neonvm',
};

/** The controller's entry point inside the runner image (release/image-plan IMAGE_PATHS.app + lib/). */
export const VXLAN_CONTROLLER_COMMAND: readonly string[] = ['node', '/app/lib/vxlan-controller/main.js'];

const XTABLES_LOCK = '/run/xtables.lock';

export const DEFAULT_VXLAN_CONTROLLER_RESOURCES: V1ResourceRequirements = {
  requests: { cpu: '10m', memory: '96Mi' },
  limits: { memory: '256Mi' },
};

export interface VxlanControllerDaemonSetInput extends VxlanControllerOptions {
  readonly namespace: string;
  /** The runner image. */
  readonly image: string;
  readonly imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /** The overlay's bridge (the NetworkAttachmentDefinitions' `bridge`). */
  readonly bridge: string;
  /** The overlay's range, kept from masquerading (nat chain NEON-EXTRANET). */
  readonly overlayCidr: string;
}

export function vxlanControllerArgs(input: VxlanControllerDaemonSetInput): string[] {
  return [
    `--bridge-name=${input.bridge}`,
    `--overlay-cidr=${input.overlayCidr}`,
    ...(input.vni !== undefined ? [`--vxlan-id=${input.vni}`] : []),
    ...(input.port !== undefined ? [`--vxlan-port=${input.port}`] : []),
    ...(input.extraArgs ?? []),
  ];
}

export function buildVxlanControllerDaemonSet(input: VxlanControllerDaemonSetInput): KubeObject {
  const name = INSTALL_NAMES.vxlanController;
  const container: V1Container = {
    name: 'vxlan-controller',
    image: input.image,
    imagePullPolicy: input.imagePullPolicy ?? 'IfNotPresent',
    command: [...VXLAN_CONTROLLER_COMMAND],
    args: vxlanControllerArgs(input),
    env: [
      // Upstream's variable: the tunnels' source address.
      { name: 'MY_NODE_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
      // Leaves the node itself out of the peers even when it has several InternalIPs.
      { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
    ],
    resources: input.resources ?? DEFAULT_VXLAN_CONTROLLER_RESOURCES,
    securityContext: {
      runAsUser: 0,
      runAsNonRoot: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'], add: ['NET_ADMIN', 'NET_RAW'] },
    },
    volumeMounts: [{ name: 'xtables-lock', mountPath: XTABLES_LOCK }],
  };
  const spec: V1DaemonSetSpec = {
    selector: { matchLabels: { 'app.kubernetes.io/name': name } },
    updateStrategy: { type: 'RollingUpdate' },
    template: {
      metadata: { labels: { ...VXLAN_CONTROLLER_LABELS } },
      spec: {
        serviceAccountName: name,
        hostNetwork: true,
        dnsPolicy: 'ClusterFirstWithHostNet',
        priorityClassName: input.priorityClassName ?? 'system-node-critical',
        tolerations: [{ operator: 'Exists' }],
        nodeSelector: { 'kubernetes.io/os': 'linux', ...(input.nodeSelector ?? {}) },
        enableServiceLinks: false,
        // A stopped controller leaves the links in place (pods keep the overlay across an upgrade).
        terminationGracePeriodSeconds: 10,
        securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
        containers: [container],
        volumes: [{ name: 'xtables-lock', hostPath: { path: XTABLES_LOCK, type: 'FileOrCreate' } }],
      },
    },
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name, namespace: input.namespace, labels: { ...VXLAN_CONTROLLER_LABELS } },
    spec,
  };
}

/** ServiceAccount, ClusterRole (Nodes: get, list, watch — nothing else) and binding, then the DaemonSet. */
export function buildVxlanControllerObjects(input: VxlanControllerDaemonSetInput): KubeObject[] {
  const name = INSTALL_NAMES.vxlanController;
  const labels = { ...VXLAN_CONTROLLER_LABELS };
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: input.namespace, labels } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name, labels },
      rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace: input.namespace }],
    },
    buildVxlanControllerDaemonSet(input),
  ];
}
