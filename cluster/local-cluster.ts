import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pino, { Logger } from 'pino';
import { ControlPlane, ControlPlaneOptions, startControlPlane } from './control-plane';
import { ImageStore, registerBuiltinImages } from './image-store';
import { connectionFromKubeConfig, KubeClient } from '../kube';
import { ApiClientFactory, keepAliveClients } from '../kube/client-node';
import { ClusterNetwork } from './network';
import { BackoffPolicy, ConfigCache, HeartbeatIntervals, NodeAgent, NodeCapacity } from './node-agent';

export interface LocalClusterOptions extends ControlPlaneOptions {
  /** Number of nodes (default 3): neonvm-node-1 .. neonvm-node-N. */
  nodes?: number;
  nodeCapacity?: NodeCapacity;
  /** Container restart back-off (default: the kubelet's 10 s doubling to 5 min). Tests shorten it. */
  backoff?: BackoffPolicy;
  heartbeat?: HeartbeatIntervals;
  /** Image store directory (default ${NEONVM_CACHE}/images). Built-in test images are registered in it. */
  imageStoreDir?: string;
  /** Node agent log level (default info, or NEONVM_AGENT_LOG_LEVEL); the log goes to <dir>/logs/node-agent.log. */
  agentLogLevel?: string;
}

export interface LocalCluster extends ControlPlane {
  nodes: NodeAgent[];
  nodeNames: string[];
  network: ClusterNetwork;
  images: ImageStore;
  /** Milliseconds from the call until control plane and all nodes were ready. */
  startupMs: number;
  /** The control plane's part of startupMs. */
  controlPlaneStartupMs: number;
  /** API clients over one keep-alive connection pool: `cluster.clients(CoreV1Api)`. */
  clients: ApiClientFactory;
}

export const nodeName = (index: number): string => `neonvm-node-${index}`;

/**
 * Connections the node agents' lean client keeps to the API server: a burst of pod starts has dozens
 * of requests in flight (a status write and a token per pod), and a request past the limit waits.
 */
const AGENT_MAX_SOCKETS = 64;

/**
 * A whole local cluster: the real control plane plus N nodes run by our node agent, on a private bridge
 * network. `stop()` removes every process, namespace, link and temp directory it created; the same
 * happens from exit handlers if the process dies first. Requires root (network namespaces).
 */
export async function startLocalCluster(options: LocalClusterOptions = {}): Promise<LocalCluster> {
  const t0 = Date.now();
  const count = options.nodes ?? 3;
  const network = await ClusterNetwork.create();
  let controlPlane: ControlPlane | undefined;
  const agents: NodeAgent[] = [];
  let config: ConfigCache | undefined;
  let kube: KubeClient | undefined;
  const teardown = async (): Promise<void> => {
    await Promise.all(agents.map((a) => a.stop().catch(() => undefined)));
    await config?.stop();
    await kube?.close();
    await controlPlane?.stop();
    await network.destroy();
  };
  try {
    // On the cluster bridge rather than loopback: the `kubernetes` Service's endpoint, which pods on real
    // nodes reach through kube-proxy (and node-agent pods directly). Each cluster has its own bridge
    // address, so parallel clusters never share it.
    controlPlane = await startControlPlane({ bindAddress: network.addressing.gateway, ...options });
    const clients = await keepAliveClients(controlPlane.kubeConfig);
    // The agents' pod watches and their per-pod-start requests (status, events, tokens) as plain JSON:
    // client-node's generated models turned every watched pod and every answer into class instances
    // (its ObjectSerializer and request pipeline were a fifth of the agents' CPU in a burst).
    kube = new KubeClient(connectionFromKubeConfig(controlPlane.kubeConfig), {
      maxSockets: AGENT_MAX_SOCKETS,
    });
    const logDir = join(controlPlane.dir, 'logs');
    mkdirSync(logDir, { recursive: true });
    // Synchronous writes: the agent's log is for post-mortems, so it must survive a crash or exit().
    const log: Logger = pino(
      { level: options.agentLogLevel ?? process.env.NEONVM_AGENT_LOG_LEVEL ?? 'info', base: undefined },
      pino.destination({ dest: join(logDir, 'node-agent.log'), sync: true }),
    );
    const images = new ImageStore(options.imageStoreDir);
    registerBuiltinImages(images);
    config = new ConfigCache(controlPlane.kubeConfig, clients, (err) =>
      log.warn({ err: err.message }, 'config watch failed'),
    );
    await config.start();
    for (let i = 1; i <= count; i++) {
      agents.push(
        new NodeAgent({
          name: nodeName(i),
          index: i,
          kubeConfig: controlPlane.kubeConfig,
          clients,
          kube,
          network,
          images,
          config,
          ca: controlPlane.ca,
          dir: join(controlPlane.dir, 'nodes', nodeName(i)),
          log,
          capacity: options.nodeCapacity,
          backoff: options.backoff,
          heartbeat: options.heartbeat,
        }),
      );
    }
    await Promise.all(agents.map((a) => a.start()));
    const cp = controlPlane;
    let stopped: Promise<void> | undefined;
    return {
      ...cp,
      nodes: agents,
      nodeNames: agents.map((a) => a.name),
      network,
      images,
      startupMs: Date.now() - t0,
      controlPlaneStartupMs: cp.startupMs,
      clients,
      stop: () => (stopped ??= teardown()),
    };
  } catch (err) {
    await teardown();
    throw err;
  }
}
