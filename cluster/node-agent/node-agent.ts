import { systemClock, type Clock } from '../../host';
import { CoreV1Api, KubeConfig, V1Pod } from '@kubernetes/client-node';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ImageStore } from '../image-store';
import { connectionFromKubeConfig, Informer, KubeClient, type ObjectList } from '../../kube';
import type { ApiClientFactory } from '../../kube/client-node';
import type { ClusterNetwork } from '../network';
import type { CertificateAuthority } from '../pki';
import { BackoffPolicy, KUBELET_BACKOFF } from './backoff';
import type { ConfigCache } from './config-cache';
import { EventRecorder, type EventSink } from './event-recorder';
import { KubeletServer } from './kubelet-server';
import { DEFAULT_HEARTBEAT, HeartbeatIntervals, NodeHeartbeat } from './node-heartbeat';
import { DEFAULT_NODE_CAPACITY, NodeCapacity } from './node-object';
import { PodWorker } from './pod-worker';

export const KUBELET_PORT = 10250;

export interface NodeAgentOptions {
  name: string;
  /** 1-based; selects the node's address and pod range on the cluster network. */
  index: number;
  kubeConfig: KubeConfig;
  /** API clients sharing a keep-alive connection pool (see keepAliveClients). */
  clients: ApiClientFactory;
  /**
   * The lean JSON client (kube/kube-client.ts) for what every pod start does: the pod watch, status
   * writes, events, service-account tokens; objects stay plain JSON (timestamps as strings). Default:
   * one of the agent's own on `kubeConfig`.
   */
  kube?: KubeClient;
  network: ClusterNetwork;
  images: ImageStore;
  config: ConfigCache;
  ca: CertificateAuthority;
  /** Per-node state (pod directories). */
  dir: string;
  log: Logger;
  capacity?: NodeCapacity;
  labels?: Record<string, string>;
  backoff?: BackoffPolicy;
  heartbeat?: HeartbeatIntervals;
  /** Time for timestamps, back-off and periodic work (default: the system clock). */
  clock?: Clock;
}

const TERMINAL = new Set(['Succeeded', 'Failed']);

/** Events posted through the lean client (the EventRecorder's one call). */
function eventSink(kube: KubeClient): EventSink {
  return {
    createNamespacedEvent: ({ namespace, body }) =>
      kube.request('POST', `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`, { body }),
  };
}

/**
 * One node of the local cluster: our stand-in for the kubelet (the virtual-kubelet pattern). Registers
 * the Node, keeps it alive, runs the pods the scheduler binds to it as host processes in per-pod
 * network namespaces, and serves the kubelet API's containerLogs endpoint on the node's address.
 */
export class NodeAgent {
  readonly name: string;
  address = '';
  private readonly core: CoreV1Api;
  private readonly workers = new Map<string, PodWorker>();
  private heartbeat: NodeHeartbeat | undefined;
  private server: KubeletServer | undefined;
  private pods: Informer<V1Pod> | undefined;
  private readonly log: Logger;
  private readonly events: EventRecorder;
  private readonly kube: KubeClient;
  /** The agent made `kube` itself (and closes it at stop). */
  private readonly ownKube: boolean;

  constructor(private readonly options: NodeAgentOptions) {
    this.name = options.name;
    this.core = options.clients(CoreV1Api);
    this.log = options.log.child({ node: options.name });
    this.ownKube = !options.kube;
    this.kube = options.kube ?? new KubeClient(connectionFromKubeConfig(options.kubeConfig));
    this.events = new EventRecorder(eventSink(this.kube), options.name, options.clock);
  }

  async start(): Promise<void> {
    const o = this.options;
    this.address = await o.network.addNode(o.index);
    const serving = await o.ca.issue(`kubelet-${o.name}`, {
      commonName: `system:node:${o.name}`,
      organizations: ['system:nodes'],
      ips: [this.address],
      dnsNames: [o.name],
      usage: 'server',
    });
    this.server = new KubeletServer({
      address: this.address,
      port: KUBELET_PORT,
      cert: serving.cert,
      key: serving.key,
      ca: o.ca.cert,
      logs: {
        logFile: (ns, pod, container, previous) => this.findWorker(ns, pod)?.logFile(container, previous),
      },
      streaming: {
        execContext: (ns, pod, container) => this.findWorker(ns, pod)?.execContext(container),
        attachTarget: (ns, pod, container) => this.findWorker(ns, pod)?.attachTarget(container),
        podIP: (ns, pod) => this.findWorker(ns, pod)?.currentPodIP,
      },
    });
    await this.server.start();

    this.heartbeat = new NodeHeartbeat(
      o.clients,
      {
        name: o.name,
        internalIP: this.address,
        kubeletPort: KUBELET_PORT,
        capacity: o.capacity ?? DEFAULT_NODE_CAPACITY,
        labels: o.labels,
      },
      o.heartbeat ?? DEFAULT_HEARTBEAT,
      o.clock,
      (err) => this.log.warn({ err: err.message }, 'heartbeat failed'),
    );
    await this.heartbeat.start();

    const fieldSelector = `spec.nodeName=${o.name}`;
    this.pods = new Informer<V1Pod>({
      name: 'pods',
      watcher: this.kube,
      path: '/api/v1/pods',
      fieldSelector,
      list: () => this.kube.request<ObjectList<V1Pod>>('GET', '/api/v1/pods', { query: { fieldSelector } }),
      onError: (err) =>
        this.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'pod watch failed'),
    });
    this.pods.on((pod, event) => (event === 'delete' ? this.podDeleted(pod) : this.podChanged(pod)));
    await this.pods.start();
    this.log.info({ address: this.address }, 'node agent started');
  }

  /**
   * Stops watching and kills every pod's processes without telling the API server (no grace, no status,
   * no more Lease renewals). Used at teardown, and by tests to simulate a machine failure: the node
   * lifecycle controller then marks the Node unreachable and evicts its pods.
   */
  async stop(): Promise<void> {
    await this.pods?.stop();
    this.heartbeat?.stop();
    await Promise.all([...this.workers.values()].map((w) => w.terminate(0, false)));
    this.workers.clear();
    await this.server?.stop();
    if (this.ownKube) await this.kube.close();
  }

  /** Number of pods with a live worker (for tests). */
  get podCount(): number {
    return this.workers.size;
  }

  private findWorker(namespace: string, name: string): PodWorker | undefined {
    return [...this.workers.values()].find((w) => w.key === `${namespace}/${name}`);
  }

  private podChanged(pod: V1Pod): void {
    const uid = pod.metadata?.uid ?? '';
    const existing = this.workers.get(uid);
    if (existing) return existing.update(pod);
    if (pod.metadata?.deletionTimestamp) {
      // Deleted before we ever ran it (or after an agent restart): nothing to stop, just finalize.
      void this.core
        .deleteNamespacedPod({
          name: pod.metadata.name ?? '',
          namespace: pod.metadata.namespace ?? '',
          gracePeriodSeconds: 0,
        })
        .catch(() => undefined);
      return;
    }
    if (TERMINAL.has(pod.status?.phase ?? '')) return;
    const worker = new PodWorker(pod, {
      core: this.core,
      kube: this.kube,
      network: this.options.network,
      nodeIndex: this.options.index,
      hostIP: this.address,
      images: this.options.images,
      config: this.options.config,
      podDir: join(this.options.dir, 'pods', `${pod.metadata?.namespace}_${pod.metadata?.name}_${uid}`),
      tmpDir: join(tmpdir(), `neonvm-pod-${uid.replace(/-/g, '').slice(0, 16)}`),
      backoff: this.options.backoff ?? KUBELET_BACKOFF,
      events: this.events,
      clock: this.options.clock ?? systemClock,
      log: this.log.child({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}` }),
    });
    this.workers.set(uid, worker);
    worker.start();
  }

  /** The pod object is gone (force deletion or our own final delete): stop whatever still runs. */
  private podDeleted(pod: V1Pod): void {
    const uid = pod.metadata?.uid ?? '';
    const worker = this.workers.get(uid);
    if (!worker) return;
    this.workers.delete(uid);
    void worker.terminate(0, false);
  }
}
