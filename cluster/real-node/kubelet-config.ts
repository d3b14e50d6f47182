/**
 * KubeletConfiguration (kubelet.config.k8s.io/v1beta1) and command line of one real node. Pure.
 *
 * What is specific to this machine and why:
 * - failCgroupV1: false: the host's hierarchy is cgroup v1, which kubelet 1.37 refuses by default;
 * - cgroupDriver cgroupfs (no systemd here), and a cgroupRoot of its own per node, so two nodes on one
 *   machine keep their pods apart and their cleanup cannot touch each other's cgroups;
 * - the kubelet API, healthz and nothing else listen on the node's own address (no read-only port);
 * - the kubelet runs in the node's own network namespace (node-network.ts), so its iptables chains
 *   (KUBE-FIREWALL, KUBE-IPTABLES-HINT) are the node's, as kube-proxy's are;
 * - evictions relaxed for a shared test machine, where disk and memory use are other engineers' too.
 */
import { stringify } from 'yaml';

export interface KubeletConfigInput {
  /** The node's InternalIP (on the cluster bridge): kubelet API and healthz listen there. */
  readonly address: string;
  readonly port?: number;
  readonly healthzPort?: number;
  readonly cgroupRoot: string;
  readonly podCidr: string;
  readonly clientCaFile: string;
  readonly tlsCertFile: string;
  readonly tlsKeyFile: string;
  readonly containerRuntimeEndpoint: string;
  readonly maxPods?: number;
  /**
   * The kubelet's own oom_score_adj (its default -999). 0 where lowering it is not permitted (no
   * CAP_SYS_RESOURCE), instead of a failed write at every start.
   */
  readonly oomScoreAdj?: number;
}

export const REAL_NODE_KUBELET_PORT = 10250;
export const REAL_NODE_HEALTHZ_PORT = 10248;

export function renderKubeletConfig(input: KubeletConfigInput): string {
  const config = {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    failCgroupV1: false,
    cgroupDriver: 'cgroupfs',
    cgroupRoot: input.cgroupRoot,
    cgroupsPerQOS: true,
    containerRuntimeEndpoint: input.containerRuntimeEndpoint,
    address: input.address,
    port: input.port ?? REAL_NODE_KUBELET_PORT,
    readOnlyPort: 0,
    healthzBindAddress: input.address,
    healthzPort: input.healthzPort ?? REAL_NODE_HEALTHZ_PORT,
    tlsCertFile: input.tlsCertFile,
    tlsPrivateKeyFile: input.tlsKeyFile,
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: true, cacheTTL: '2m0s' },
      x509: { clientCAFile: input.clientCaFile },
    },
    authorization: { mode: 'Webhook' },
    podCIDR: input.podCidr,
    maxPods: input.maxPods ?? 110,
    oomScoreAdj: input.oomScoreAdj ?? -999,
    failSwapOn: false,
    // The machine's values are masked in the node's mount namespace instead (kernel-tunables.ts).
    protectKernelDefaults: false,
    evictionHard: {
      'memory.available': '100Mi',
      'nodefs.available': '1%',
      'nodefs.inodesFree': '1%',
      'imagefs.available': '1%',
    },
    imageGCHighThresholdPercent: 99,
    imageGCLowThresholdPercent: 98,
    serializeImagePulls: false,
    // Pods are short-lived in tests: report status changes quickly.
    nodeStatusUpdateFrequency: '10s',
    nodeStatusReportFrequency: '1m0s',
    // No cluster DNS in the local cluster; pods get the host's resolv.conf.
    resolvConf: '/etc/resolv.conf',
    clusterDomain: 'cluster.local',
    logging: { format: 'text', verbosity: 2 },
  };
  return stringify(config);
}

export interface KubeletArgsInput {
  readonly configFile: string;
  readonly kubeconfigFile: string;
  readonly nodeName: string;
  readonly nodeIp: string;
  readonly labels?: Readonly<Record<string, string>>;
}

/** Flags that have no KubeletConfiguration field (node identity). */
export function kubeletArgs(input: KubeletArgsInput): string[] {
  const labels = Object.entries(input.labels ?? {}).map(([k, v]) => `${k}=${v}`);
  return [
    `--config=${input.configFile}`,
    `--kubeconfig=${input.kubeconfigFile}`,
    `--hostname-override=${input.nodeName}`,
    `--node-ip=${input.nodeIp}`,
    ...(labels.length > 0 ? [`--node-labels=${labels.join(',')}`] : []),
  ];
}
