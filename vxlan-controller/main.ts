#!/usr/bin/env node
/**
 * neonvm-vxlan-controller: the entry point of the VXLAN controller DaemonSet (hostNetwork, NET_ADMIN
 * and NET_RAW). Flags: config.ts. Log: pino JSON on stdout. SIGTERM/SIGINT: stops watching and exits
 * 0, leaving the links in place (pods attached to the bridge keep their overlay across an upgrade);
 * `--delete` removes them. Exit 2 on bad flags.
 */
import { KubeConfig } from '@kubernetes/client-node';
import pino from 'pino';
import { parseVxlanControllerConfig, type VxlanControllerConfig } from './config';
import { hostNetworkTools } from './network-tools';
import { removeOverlay } from './reconcile';
import { VxlanController } from './vxlan-controller';

function loadKubeConfig(path: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  // In a pod: the ServiceAccount token and CA at the usual path, below the container's root on the
  // local cluster's node-agent nodes (NEONVM_POD_ROOT, as the operator and runner resolve paths).
  else if (process.env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster(process.env.NEONVM_POD_ROOT ?? '');
  else kc.loadFromDefault();
  return kc;
}

export async function main(argv: readonly string[]): Promise<number> {
  let config: VxlanControllerConfig;
  try {
    config = parseVxlanControllerConfig(argv);
  } catch (err) {
    const e = err as { code?: string; message?: string };
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
    console.error(e.message ?? String(err));
    return 2;
  }
  const log = pino({
    name: 'neonvm-vxlan-controller',
    level: config.logLevel,
    timestamp: pino.stdTimeFunctions.isoTime,
  });
  const tools = hostNetworkTools();
  if (config.delete) {
    const removed = await removeOverlay(config.settings, tools);
    log.info(removed, 'overlay removed');
    return 0;
  }
  const controller = new VxlanController({
    settings: config.settings,
    nodeName: config.nodeName,
    kubeConfig: loadKubeConfig(config.kubeconfig),
    tools,
    resyncMs: config.resyncMs,
    log,
  });
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  log.info({ ...config.settings, nodeName: config.nodeName }, 'starting');
  await controller.start();
  log.info({ peers: controller.peers() }, 'started');
  const signal = await stopped;
  log.info({ signal }, 'stopping');
  await controller.stop();
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
