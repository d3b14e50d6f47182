/**
 * The device plugin DaemonSet (`device-plugin/`; upstream's `neonvm-device-plugin`, §7): one pod per
 * node that offers `neonvm/kvm` and `neonvm/vhost-net` to the kubelet. Least privilege instead of
 * upstream's `privileged: true`: root (the kubelet's socket directory is root's) without any
 * capability, read-only root filesystem, no API access; the two host paths it needs — the kubelet's
 * device plugin directory, and the host's /dev read-only at /host/dev to see which device nodes exist.
 * Critical to the node and tolerating every taint, as device plugins are.
 */
import type { DaemonSetSpec as V1DaemonSetSpec } from 'kubernetes-types/apps/v1';
import type {
  Container as V1Container,
  ResourceRequirements as V1ResourceRequirements,
} from 'kubernetes-types/core/v1';
import type { KubeObject } from '../kube-object';
import { INSTALL_NAMES, type DevicePluginOptions } from './install-options';

export const DEVICE_PLUGIN_LABELS: Readonly<Record<string, string>> = {
  'app.kubernetes.io/name': INSTALL_NAMES.devicePlugin,
  'app.kubernetes.io/part-of': 'neonvm',
};

/** The kubelet's device plugin directory (k8s.io/kubelet DevicePluginPath). */
export const KUBELET_DEVICE_PLUGIN_DIR = '/var/lib/kubelet/device-plugins';
const HOST_ROOT = '/host';
const HEALTH_PORT = 8081;

export const DEFAULT_DEVICE_PLUGIN_RESOURCES: V1ResourceRequirements = {
  requests: { cpu: '10m', memory: '80Mi' },
  limits: { memory: '160Mi' },
};

export interface DevicePluginDaemonSetInput extends DevicePluginOptions {
  readonly namespace: string;
  readonly image: string;
  readonly imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
}

export function devicePluginArgs(input: DevicePluginOptions): string[] {
  return [
    `--host-root=${HOST_ROOT}`,
    `--devices-per-resource=${input.devicesPerResource ?? 1000}`,
    `--health-port=${HEALTH_PORT}`,
    ...(input.extraArgs ?? []),
  ];
}

export function buildDevicePluginDaemonSet(input: DevicePluginDaemonSetInput): KubeObject {
  const selector = { 'app.kubernetes.io/name': INSTALL_NAMES.devicePlugin };
  const container: V1Container = {
    name: 'device-plugin',
    image: input.image,
    imagePullPolicy: input.imagePullPolicy ?? 'IfNotPresent',
    args: devicePluginArgs(input),
    ports: [{ name: 'health', containerPort: HEALTH_PORT, protocol: 'TCP' }],
    livenessProbe: { httpGet: { path: '/healthz', port: HEALTH_PORT }, periodSeconds: 20 },
    // Ready once every resource is registered with the node's kubelet: a rollout waits for it.
    readinessProbe: { httpGet: { path: '/readyz', port: HEALTH_PORT }, periodSeconds: 10 },
    resources: input.resources ?? DEFAULT_DEVICE_PLUGIN_RESOURCES,
    securityContext: {
      runAsUser: 0,
      runAsNonRoot: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    },
    volumeMounts: [
      { name: 'device-plugins', mountPath: KUBELET_DEVICE_PLUGIN_DIR },
      { name: 'host-dev', mountPath: `${HOST_ROOT}/dev`, readOnly: true },
    ],
  };
  const spec: V1DaemonSetSpec = {
    selector: { matchLabels: selector },
    updateStrategy: { type: 'RollingUpdate' },
    template: {
      metadata: { labels: { ...DEVICE_PLUGIN_LABELS } },
      spec: {
        priorityClassName: input.priorityClassName ?? 'system-node-critical',
        tolerations: [{ operator: 'Exists' }],
        nodeSelector: { 'kubernetes.io/os': 'linux', ...(input.nodeSelector ?? {}) },
        automountServiceAccountToken: false,
        enableServiceLinks: false,
        terminationGracePeriodSeconds: 10,
        securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
        containers: [container],
        volumes: [
          { name: 'device-plugins', hostPath: { path: KUBELET_DEVICE_PLUGIN_DIR, type: 'Directory' } },
          { name: 'host-dev', hostPath: { path: '/dev', type: 'Directory' } },
        ],
      },
    },
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: {
      name: INSTALL_NAMES.devicePlugin,
      namespace: input.namespace,
      labels: { ...DEVICE_PLUGIN_LABELS },
    },
    spec,
  };
}
