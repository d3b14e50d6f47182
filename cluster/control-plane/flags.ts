/**
 * Command lines of the control-plane processes. Pure: every path and port comes in through the
 * argument, so the flag sets can be unit-tested and read in one place.
 */

export interface EtcdConfig {
  dataDir: string;
  clientPort: number;
  peerPort: number;
}

export function etcdArgs(c: EtcdConfig): string[] {
  const client = `http://127.0.0.1:${c.clientPort}`;
  const peer = `http://127.0.0.1:${c.peerPort}`;
  return [
    '--name=default',
    `--data-dir=${c.dataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=default=${peer}`,
    // Tests throw the data away; fsync would only make every write wait for the disk.
    '--unsafe-no-fsync',
    '--log-level=warn',
  ];
}

export interface ApiServerConfig {
  etcdUrl: string;
  bindAddress: string;
  securePort: number;
  servingCertFile: string;
  servingKeyFile: string;
  caCertFile: string;
  serviceAccountPublicKeyFile: string;
  serviceAccountPrivateKeyFile: string;
  kubeletClientCertFile: string;
  kubeletClientKeyFile: string;
  serviceClusterIpRange: string;
}

export function apiServerArgs(c: ApiServerConfig): string[] {
  return [
    `--etcd-servers=${c.etcdUrl}`,
    `--bind-address=${c.bindAddress}`,
    `--advertise-address=${c.bindAddress}`,
    // The endpoint reconciler publishes the advertise address as the `kubernetes` Service's endpoint,
    // and EndpointSlices reject loopback addresses: the API server then refuses to start. The local
    // cluster binds the cluster bridge's address (pods reach it through that Service); a control plane
    // on loopback alone switches the reconciler off.
    ...(isLoopback(c.bindAddress) ? ['--endpoint-reconciler-type=none'] : []),
    `--secure-port=${c.securePort}`,
    `--tls-cert-file=${c.servingCertFile}`,
    `--tls-private-key-file=${c.servingKeyFile}`,
    `--client-ca-file=${c.caCertFile}`,
    '--authorization-mode=Node,RBAC',
    `--service-cluster-ip-range=${c.serviceClusterIpRange}`,
    '--allow-privileged=true',
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${c.serviceAccountPublicKeyFile}`,
    `--service-account-signing-key-file=${c.serviceAccountPrivateKeyFile}`,
    // How the API server reaches the node agent for logs/exec/port-forward: it presents this client
    // certificate and verifies the agent's serving certificate against our CA, at the node InternalIP.
    `--kubelet-client-certificate=${c.kubeletClientCertFile}`,
    `--kubelet-client-key=${c.kubeletClientKeyFile}`,
    `--kubelet-certificate-authority=${c.caCertFile}`,
    '--kubelet-preferred-address-types=InternalIP',
    // Webhooks and aggregated APIs behind a Service are called at an endpoint (a pod address, which the
    // host routes to) rather than the Service's ClusterIP: only kube-proxy on a node makes ClusterIPs
    // work, and none runs in the host's network namespace (the same holds for many managed control
    // planes, which sit outside the node network).
    '--enable-aggregator-routing=true',
    '--profiling=false',
  ];
}

function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1' || address === 'localhost';
}

export interface ComponentConfig {
  kubeconfigFile: string;
}

export function schedulerArgs(c: ComponentConfig): string[] {
  return [
    `--kubeconfig=${c.kubeconfigFile}`,
    `--authentication-kubeconfig=${c.kubeconfigFile}`,
    `--authorization-kubeconfig=${c.kubeconfigFile}`,
    // No health/metrics port to collide with another cluster; one instance, so no leader election wait.
    '--secure-port=0',
    '--leader-elect=false',
  ];
}

export interface ControllerManagerConfig extends ComponentConfig {
  serviceAccountPrivateKeyFile: string;
  caCertFile: string;
  caKeyFile: string;
  serviceClusterIpRange: string;
}

export function controllerManagerArgs(c: ControllerManagerConfig): string[] {
  return [
    `--kubeconfig=${c.kubeconfigFile}`,
    `--authentication-kubeconfig=${c.kubeconfigFile}`,
    `--authorization-kubeconfig=${c.kubeconfigFile}`,
    `--service-account-private-key-file=${c.serviceAccountPrivateKeyFile}`,
    `--root-ca-file=${c.caCertFile}`,
    `--cluster-signing-cert-file=${c.caCertFile}`,
    `--cluster-signing-key-file=${c.caKeyFile}`,
    `--service-cluster-ip-range=${c.serviceClusterIpRange}`,
    // Each controller gets its own service account, so RBAC is exercised as in a real cluster.
    '--use-service-account-credentials=true',
    // Default controller list on purpose: 1.37 exits on unknown names such as cloud-node-lifecycle.
    '--secure-port=0',
    '--leader-elect=false',
  ];
}
