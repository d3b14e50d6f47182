/**
 * The operator Deployment (upstream's `neonvm-controller`, §7): leader-elected, non-root, read-only
 * root filesystem, probes on the health port, the webhook certificate Secret mounted where
 * controller-runtime looks for it. The environment is the operator's contract: runner image, the
 * two NetworkAttachmentDefinitions, and how the webhook certificate is managed.
 */
import type { DeploymentSpec as V1DeploymentSpec } from 'kubernetes-types/apps/v1';
import type { EnvVar as V1EnvVar } from 'kubernetes-types/core/v1';
import { admissionPolicyArgs } from '../../crds';
import type { KubeObject } from '../kube-object';
import type { ObjectRef } from '../network-objects';
import { OPERATOR_SELECTOR } from './runner-network-policy';
import {
  DEFAULT_OPERATOR_ARGS,
  INSTALL_NAMES,
  OPERATOR_LABELS,
  PORTS,
  WEBHOOK_CERT_DIR,
  type CertificateMode,
  type NeonVmInstallOptions,
} from './install-options';

export interface OperatorDeploymentInput extends NeonVmInstallOptions {
  readonly namespace: string;
  readonly certificates: CertificateMode;
  /** The NADs the operator reads (absent when the install creates no network). */
  readonly runnerNetwork?: ObjectRef;
  readonly ipamNetwork?: ObjectRef;
}

export function operatorEnv(input: OperatorDeploymentInput): V1EnvVar[] {
  const env: V1EnvVar[] = [{ name: 'VM_RUNNER_IMAGE', value: input.runnerImage }];
  if (input.ipamNetwork) {
    env.push(
      { name: 'NAD_IPAM_NAME', value: input.ipamNetwork.name },
      { name: 'NAD_IPAM_NAMESPACE', value: input.ipamNetwork.namespace },
    );
  }
  if (input.runnerNetwork) {
    env.push(
      { name: 'NAD_RUNNER_NAME', value: input.runnerNetwork.name },
      { name: 'NAD_RUNNER_NAMESPACE', value: input.runnerNetwork.namespace },
    );
  }
  env.push(
    { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
    { name: 'WEBHOOK_CERT_MODE', value: input.certificates },
    { name: 'WEBHOOK_CERT_SECRET', value: INSTALL_NAMES.webhookSecret },
    { name: 'WEBHOOK_SERVICE_NAME', value: INSTALL_NAMES.webhookService },
  );
  return env;
}

export function buildOperatorDeployment(input: OperatorDeploymentInput): KubeObject {
  const labels = { ...OPERATOR_LABELS };
  const selector = { ...OPERATOR_SELECTOR };
  const spec: V1DeploymentSpec = {
    replicas: input.replicas ?? 1,
    selector: { matchLabels: selector },
    template: {
      metadata: { labels, annotations: { 'kubectl.kubernetes.io/default-container': 'manager' } },
      spec: {
        serviceAccountName: INSTALL_NAMES.serviceAccount,
        terminationGracePeriodSeconds: 10,
        securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                {
                  matchExpressions: [
                    { key: 'kubernetes.io/os', operator: 'In', values: ['linux'] },
                    { key: 'kubernetes.io/arch', operator: 'In', values: ['amd64', 'arm64'] },
                  ],
                },
              ],
            },
          },
        },
        containers: [
          {
            name: 'manager',
            image: input.image,
            imagePullPolicy: input.imagePullPolicy ?? 'IfNotPresent',
            args: [...(input.args ?? DEFAULT_OPERATOR_ARGS), ...admissionPolicyArgs(input.admission ?? {})],
            env: operatorEnv(input),
            ports: [
              { name: 'metrics', containerPort: PORTS.metrics, protocol: 'TCP' },
              { name: 'health', containerPort: PORTS.health, protocol: 'TCP' },
              { name: 'webhook-server', containerPort: PORTS.webhook, protocol: 'TCP' },
            ],
            livenessProbe: {
              httpGet: { path: '/healthz', port: PORTS.health },
              initialDelaySeconds: 15,
              periodSeconds: 20,
            },
            readinessProbe: {
              httpGet: { path: '/readyz', port: PORTS.health },
              initialDelaySeconds: 5,
              periodSeconds: 10,
            },
            ...(input.resources ? { resources: input.resources } : {}),
            securityContext: {
              allowPrivilegeEscalation: false,
              readOnlyRootFilesystem: true,
              capabilities: { drop: ['ALL'] },
            },
            volumeMounts: [
              // A writable /tmp (the root is read-only): the operator writes no files of its own (its
              // certificates are made in-process), but the webhook certificate directory sits under it
              // (upstream's path) and libraries expect os.tmpdir() to be writable.
              { name: 'tmp', mountPath: '/tmp' },
              { name: 'cert', mountPath: WEBHOOK_CERT_DIR, readOnly: true },
            ],
          },
        ],
        volumes: [
          { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } },
          // Optional in self-managed mode: the operator creates the Secret after it starts.
          {
            name: 'cert',
            secret: {
              secretName: INSTALL_NAMES.webhookSecret,
              optional: input.certificates === 'self-managed',
            },
          },
        ],
      },
    },
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: INSTALL_NAMES.deployment, namespace: input.namespace, labels },
    spec,
  };
}
