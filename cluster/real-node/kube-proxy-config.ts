/**
 * KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1) of one real node. kube-proxy runs as a node
 * process next to the kubelet (as in clusters installed by hand; kubeadm runs the same binary as a
 * hostNetwork DaemonSet), inside the node's network namespace, in iptables mode: the Service rules it
 * writes (the `kubernetes` Service's ClusterIP → the API server on the cluster bridge, and every other
 * Service) are the node's, never the host's or another cluster's. Pure.
 *
 * What differs from the defaults, and why:
 * - conntrack.maxPerCore 0: leave nf_conntrack_max and the module's hashsize alone — both are global to
 *   the machine (and read-only outside the initial network namespace); the timeouts kube-proxy would
 *   set are per namespace, so they keep their defaults;
 * - oomScoreAdj 0 where lowering it is not permitted (no CAP_SYS_RESOURCE), as for the kubelet.
 */
import { stringify } from 'yaml';

export interface KubeProxyConfigInput {
  readonly kubeconfigFile: string;
  readonly nodeName: string;
  /** All pod addresses of the cluster: traffic from elsewhere to a Service is masqueraded. */
  readonly clusterCidr: string;
  readonly oomScoreAdj?: number;
}

export const KUBE_PROXY_HEALTHZ_PORT = 10256;

export function renderKubeProxyConfig(input: KubeProxyConfigInput): string {
  return stringify({
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    clientConnection: { kubeconfig: input.kubeconfigFile },
    hostnameOverride: input.nodeName,
    mode: 'iptables',
    clusterCIDR: input.clusterCidr,
    detectLocalMode: 'ClusterCIDR',
    // The node's own namespace: its port space is the node's.
    healthzBindAddress: `0.0.0.0:${KUBE_PROXY_HEALTHZ_PORT}`,
    metricsBindAddress: '127.0.0.1:10249',
    conntrack: { maxPerCore: 0, min: 0 },
    ...(input.oomScoreAdj !== undefined ? { oomScoreAdj: input.oomScoreAdj } : {}),
    logging: { format: 'text', verbosity: 2 },
  });
}
