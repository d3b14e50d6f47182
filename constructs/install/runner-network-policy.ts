/**
 * The NetworkPolicy that fences runner pods (upstream ships none): the runner API only from the
 * operator's pods, the migration stream and its disks' NBD port (migration port + 1, QEMU ≥ 9.1) only
 * from runner pods, QEMU's QMP ports (unix sockets here;
 * nothing should listen) from nobody, and every other port — the guest's — from anywhere, as before.
 *
 * NetworkPolicies are namespaced, so the install puts one in each namespace that holds VMs
 * (`networkPolicy.namespaces`); a platform that makes tenant namespaces later stamps the same object
 * with `buildRunnerNetworkPolicy`. Traffic from the node (kubelet probes) is always allowed by
 * NetworkPolicy. Multus attachments (the overlay, `eth1` in the guest) are not covered by
 * NetworkPolicy at all. The ports are the defaults of `spec.runnerPort`/`qmp`/`qmpManual`; a VM that
 * moves its runner port keeps only the runner API's bearer token in front of it. Port ranges need
 * `endPort` (Kubernetes ≥ 1.25 and a CNI that honours it: Calico, Cilium, Antrea, kube-router do).
 */
import type { NetworkPolicyPeer, NetworkPolicyPort } from 'kubernetes-types/networking/v1';
import {
  DEFAULT_QMP_MANUAL_PORT,
  DEFAULT_QMP_PORT,
  DEFAULT_RUNNER_PORT,
  LABEL_APP_NAME,
  MIGRATION_DISK_PORT,
  MIGRATION_PORT,
  RUNNER_APP_NAME,
} from '../../crds';
import type { KubeObject } from '../kube-object';
import { OPERATOR_LABELS } from './install-options';

export interface RunnerNetworkPolicyOptions {
  /**
   * Namespaces holding VMs: one NetworkPolicy `neonvm-runner` each.
   * @default ['default']
   */
  readonly namespaces?: readonly string[];
  /**
   * More peers allowed to the runner API port besides the operator, e.g. a Prometheus scraping the
   * runner's `/metrics` (the API itself still needs the per-VM bearer token).
   * @default - none
   */
  readonly runnerApiFrom?: readonly NetworkPolicyPeer[];
}

export const RUNNER_NETWORK_POLICY_NAME = 'neonvm-runner';

/** The labels the operator Deployment selects its pods by (a subset of OPERATOR_LABELS). */
export const OPERATOR_SELECTOR: Readonly<Record<string, string>> = {
  'control-plane': OPERATOR_LABELS['control-plane'],
  'app.kubernetes.io/name': OPERATOR_LABELS['app.kubernetes.io/name'],
};

/** TCP port ranges covering 1–65535 except `closed`. */
export function openTcpRanges(closed: readonly number[]): NetworkPolicyPort[] {
  const out: NetworkPolicyPort[] = [];
  let from = 1;
  for (const port of [...new Set(closed)].sort((a, b) => a - b)) {
    if (port > from)
      out.push({ protocol: 'TCP', port: from, ...(port - 1 > from ? { endPort: port - 1 } : {}) });
    from = port + 1;
  }
  if (from <= 65535) out.push({ protocol: 'TCP', port: from, ...(from < 65535 ? { endPort: 65535 } : {}) });
  return out;
}

export function buildRunnerNetworkPolicy(
  namespace: string,
  operatorNamespace: string,
  options: Pick<RunnerNetworkPolicyOptions, 'runnerApiFrom'> = {},
): KubeObject {
  const runnerPods = { matchLabels: { [LABEL_APP_NAME]: RUNNER_APP_NAME } };
  const operator: NetworkPolicyPeer = {
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': operatorNamespace } },
    podSelector: { matchLabels: { ...OPERATOR_SELECTOR } },
  };
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: {
      name: RUNNER_NETWORK_POLICY_NAME,
      namespace,
      labels: { 'app.kubernetes.io/part-of': 'neonvm' },
    },
    spec: {
      podSelector: runnerPods,
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [operator, ...(options.runnerApiFrom ?? [])],
          ports: [{ protocol: 'TCP', port: DEFAULT_RUNNER_PORT }],
        },
        // The source runner pod of a migration is in the VM's namespace; it sends the RAM stream and,
        // with QEMU >= 9.1 (no block migration), mirrors the writable disks over NBD.
        {
          from: [{ podSelector: runnerPods }],
          ports: [
            { protocol: 'TCP', port: MIGRATION_PORT },
            { protocol: 'TCP', port: MIGRATION_DISK_PORT },
          ],
        },
        // The guest's ports: what reached the pod before still does.
        {
          ports: [
            ...openTcpRanges([
              DEFAULT_RUNNER_PORT,
              MIGRATION_PORT,
              MIGRATION_DISK_PORT,
              DEFAULT_QMP_PORT,
              DEFAULT_QMP_MANUAL_PORT,
            ]),
            { protocol: 'UDP' },
            { protocol: 'SCTP' },
          ],
        },
      ],
    },
  };
}
