import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cacheRoot } from '../host';
import { applyCrds, DEFAULT_CRD_DIR } from './control-plane';
import { LocalCluster, LocalClusterOptions, startLocalCluster } from './local-cluster';

export interface ServeOptions extends LocalClusterOptions {
  /** Where to copy the admin kubeconfig (default ${NEONVM_CACHE}/local-cluster.kubeconfig). */
  kubeconfigOut?: string;
  /** CRDs to apply after start (default crds/generated/; skipped if absent). */
  crdDir?: string;
  print?: (line: string) => void;
}

/**
 * For interactive use (`npm start`): starts a local cluster, applies the project's CRDs, copies the
 * kubeconfig to a stable path (the cluster's own directory is temporary) and prints how to use it.
 * The cluster lives until `stop()` or until the process ends: Ctrl-C runs the exit handlers, which kill
 * every process and remove the network and temp files.
 */
export async function serveLocalCluster(options: ServeOptions = {}): Promise<LocalCluster> {
  const print = options.print ?? ((line: string) => console.log(line));
  const cluster = await startLocalCluster({ ...options, log: options.log ?? print });
  const crds = await applyCrds(cluster, options.crdDir ?? DEFAULT_CRD_DIR);
  const kubeconfig = options.kubeconfigOut ?? join(cacheRoot(), 'local-cluster.kubeconfig');
  mkdirSync(dirname(kubeconfig), { recursive: true });
  copyFileSync(cluster.kubeconfigPath, kubeconfig);
  print(`local cluster ready in ${(cluster.startupMs / 1000).toFixed(1)} s: ${cluster.server}`);
  print(`nodes: ${cluster.nodes.map((n) => `${n.name} (${n.address})`).join(', ')}`);
  print(`CRDs applied: ${crds.length ? crds.join(', ') : 'none (crds/generated/ is empty or absent)'}`);
  print(`export KUBECONFIG=${kubeconfig}`);
  print(`kubectl: ${cluster.binaries.kubectl}`);
  print('press Ctrl-C to stop (everything is cleaned up)');
  return cluster;
}
