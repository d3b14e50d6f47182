import { sleep, type Clock } from '../../host';
import type { CoreV1Api, V1Pod, V1Volume } from '@kubernetes/client-node';
import type { KubeClient } from '../../kube';
import type { Logger } from 'pino';
import type { ImageStore } from '../image-store';
import type { ClusterNetwork } from '../network';
import type { BackoffPolicy } from './backoff';
import { ConfigCache, configRefsOf } from './config-cache';
import { ContainerHost, ContainerRunner } from './container-runner';
import { ContainerConfigError } from './env';
import type { EventRecorder, EventType } from './event-recorder';
import { PodFilesystem } from './pod-filesystem';
import { PodNamespaces } from './pod-namespaces';
import { computePodStatus, RestartPolicy } from './pod-status';
import { StatusWriter } from './status-writer';
import type { AttachTarget, ExecContext } from './streaming';
import { volumePayload, VolumeNotReadyError } from './volume-payload';

export interface PodWorkerDeps {
  core: CoreV1Api;
  /** The lean JSON client: status writes and token requests (every pod start's requests). */
  kube: KubeClient;
  network: ClusterNetwork;
  nodeIndex: number;
  hostIP: string;
  images: ImageStore;
  config: ConfigCache;
  /** This pod's directory (volumes, container roots, logs). */
  podDir: string;
  /** The pod's private temp directory (its TMPDIR), short enough for unix socket paths. */
  tmpDir: string;
  backoff: BackoffPolicy;
  events: EventRecorder;
  clock: Clock;
  log: Logger;
}

const CONFIG_RETRY_MS = 1000;

/**
 * Runs one pod on one node, as the kubelet's pod worker does: sandbox (network namespace) and volumes,
 * init containers in order, then the app containers with restarts and probes, and the pod status kept
 * current through a coalescing writer. Terminates on deletion, honouring the grace period, and then
 * removes the pod object.
 */
export class PodWorker {
  private pod: V1Pod;
  private readonly fs: PodFilesystem;
  private readonly statusWriter: StatusWriter;
  private readonly initContainers: ContainerRunner[];
  private readonly appContainers: ContainerRunner[];
  private readonly startTime: Date;
  private podIP: string | undefined;
  private execPrefix: string[] = [];
  private namespaces: PodNamespaces | undefined;
  private sandboxReady = false;
  private stopping = false;
  private stopRequested!: () => void;
  private readonly stopSignal = new Promise<void>((resolve) => (this.stopRequested = resolve));
  private running: Promise<void> | undefined;
  private termination: Promise<void> | undefined;
  private readonly unsubscribeConfig: () => void;
  private readonly tokens = new Map<string, string>();
  /**
   * Milliseconds from the worker's creation to each start phase, logged once the pod is Running with
   * `seenAt`, the creation on this process's performance.now() clock (a bench hosting the agents joins
   * it with its own create/Running timestamps).
   */
  private readonly startPhases: Record<string, number> = {};
  private readonly createdAt = performance.now();
  private startLogged = false;
  private statusWrites = 0;
  /** Ends this pod's hold on the node's events (see EventRecorder.holdWhileStarting). */
  private readonly releaseEvents: () => void;

  constructor(
    pod: V1Pod,
    private readonly deps: PodWorkerDeps,
  ) {
    this.pod = pod;
    this.startTime = new Date(deps.clock.now());
    this.fs = new PodFilesystem(deps.podDir, deps.tmpDir);
    this.releaseEvents = deps.events.holdWhileStarting();
    // No delay before a write: changes made in the same tick are still one write, and a write in flight
    // still absorbs every change made meanwhile. The pod's start is reported as soon as its container
    // runs, as the kubelet's status manager does (the former 20 ms wait was a fifth of a pod start).
    this.statusWriter = new StatusWriter(
      () => this.writeStatus(),
      (err) => deps.log.warn({ err: err.message }, 'pod status update failed'),
      0,
      deps.clock,
    );
    const host = this.containerHost();
    const hasInit = (pod.spec?.initContainers ?? []).length > 0;
    this.initContainers = (pod.spec?.initContainers ?? []).map(
      (c) => new ContainerRunner(c, host, 'PodInitializing'),
    );
    this.appContainers = (pod.spec?.containers ?? []).map(
      (c) => new ContainerRunner(c, host, hasInit ? 'PodInitializing' : 'ContainerCreating'),
    );
    const refs = new Set(configRefsOf(pod).map((r) => `${r.kind}/${r.namespace}/${r.name}`));
    this.unsubscribeConfig = deps.config.onChange((ref) => {
      if (refs.has(`${ref.kind}/${ref.namespace}/${ref.name}`)) this.refreshVolumes();
    });
  }

  get uid(): string {
    return this.pod.metadata?.uid ?? '';
  }

  get key(): string {
    return `${this.pod.metadata?.namespace}/${this.pod.metadata?.name}`;
  }

  /** The log file of a container's current (or previous) run, for the containerLogs endpoint. */
  logFile(container: string, previous: boolean): { file: string; live: () => boolean } | undefined {
    return this.container(container)?.logFile(previous);
  }

  /** How to run a command alongside a running container (kubectl exec), or undefined. */
  execContext(container: string): ExecContext | undefined {
    return this.container(container)?.execContext();
  }

  /** The running container for kubectl attach, or undefined. */
  attachTarget(container: string): AttachTarget | undefined {
    return this.container(container)?.attachTarget();
  }

  private container(name: string): ContainerRunner | undefined {
    return [...this.initContainers, ...this.appContainers].find((c) => c.name === name);
  }

  get currentPodIP(): string | undefined {
    return this.sandboxReady ? this.podIP : undefined;
  }

  start(): void {
    this.running = this.run().catch((err: Error) => {
      this.releaseEvents();
      this.deps.log.error({ err: err.message, stack: err.stack }, 'pod worker failed');
    });
  }

  /** A newer version of the pod from the API. */
  update(pod: V1Pod): void {
    const labelsChanged =
      JSON.stringify(pod.metadata?.labels) !== JSON.stringify(this.pod.metadata?.labels) ||
      JSON.stringify(pod.metadata?.annotations) !== JSON.stringify(this.pod.metadata?.annotations);
    this.pod = pod;
    if (labelsChanged) this.refreshVolumes();
    if (pod.metadata?.deletionTimestamp) {
      const grace = pod.metadata.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
      void this.terminate(grace, true);
    }
  }

  /**
   * Stops every container (SIGTERM to its process group, SIGKILL after `graceSeconds`), removes the
   * sandbox and files, and, if `deleteFromApi`, deletes the pod object with grace 0 (the kubelet's
   * final step, which lets the API server forget the pod). Idempotent.
   */
  terminate(graceSeconds: number, deleteFromApi: boolean): Promise<void> {
    this.termination ??= (async () => {
      this.stopping = true;
      this.releaseEvents();
      this.stopRequested();
      const containers = [...this.initContainers, ...this.appContainers];
      for (const c of containers)
        if (c.isRunning) this.event('Normal', 'Killing', `Stopping container ${c.name}`, c.name);
      this.deps.log.info({ graceSeconds }, 'terminating pod');
      await Promise.all(containers.map((c) => c.stop(graceSeconds * 1000)));
      await this.running;
      if (deleteFromApi) {
        this.statusWriter.markDirty();
        await this.statusWriter.flush();
      }
      this.statusWriter.close();
      this.unsubscribeConfig();
      await this.releaseSandbox();
      this.fs.remove();
      if (deleteFromApi) await this.deleteFromApi();
    })();
    return this.termination;
  }

  private async deleteFromApi(): Promise<void> {
    const { name, namespace } = this.pod.metadata ?? {};
    try {
      await this.deps.core.deleteNamespacedPod({
        name: name ?? '',
        namespace: namespace ?? '',
        gracePeriodSeconds: 0,
        body: { gracePeriodSeconds: 0, preconditions: { uid: this.uid } },
      });
    } catch (err) {
      const code = (err as { code?: number }).code;
      if (code !== 404 && code !== 409)
        this.deps.log.warn({ err: (err as Error).message }, 'final pod delete failed');
    }
  }

  private phase(name: string): void {
    this.startPhases[name] ??= Math.round(performance.now() - this.createdAt);
  }

  private async run(): Promise<void> {
    // What the volumes need from the API (ConfigMaps, Secrets, service-account tokens) is fetched while
    // the sandbox is made: two round trips the pod start no longer waits for one after the other.
    // Failures are left to setupVolumes, which retries and reports them.
    const sources = this.fetchVolumeSources().catch(() => undefined);
    await this.createSandbox();
    await sources;
    if (!(await this.setupVolumes())) return;
    this.phase('volumes');
    for (const container of this.initContainers) {
      if (!(await container.supervise(true))) return this.finish();
    }
    await Promise.all(this.appContainers.map((c) => c.supervise(false)));
    await this.finish();
  }

  /** Pod reached Succeeded/Failed (or is stopping): release the network like the kubelet frees the sandbox. */
  private async finish(): Promise<void> {
    this.statusWriter.markDirty();
    await this.statusWriter.flush();
    if (!this.stopping) {
      this.sandboxReady = false;
      await this.releaseSandbox();
      this.statusWriter.markDirty();
    }
  }

  /** The namespace holder, then the network namespace. */
  private async releaseSandbox(): Promise<void> {
    const namespaces = this.namespaces;
    this.namespaces = undefined;
    await namespaces?.stop();
    await this.deps.network.deleteSandbox(this.uid);
  }

  private async createSandbox(): Promise<void> {
    let networkCommands: string[] = [];
    if (this.pod.spec?.hostNetwork) {
      this.podIP = this.deps.hostIP;
      this.execPrefix = [];
    } else {
      // The namespace's side of the network (address, links, route) is set up by the namespace
      // holder, which runs in the namespace anyway: one process start less per pod.
      const sandbox = await this.deps.network.createSandbox(this.uid, this.deps.nodeIndex, {
        configureInside: false,
      });
      this.podIP = sandbox.ip;
      this.execPrefix = sandbox.execPrefix;
      networkCommands = sandbox.insideCommands;
    }
    this.phase('network');
    this.namespaces = await PodNamespaces.start(
      this.pod,
      this.execPrefix,
      this.fs.sandboxLogFile(),
      this.podRef,
      networkCommands,
    );
    this.phase('namespaces');
    // No status write of its own: the containers start right after, and their status write carries
    // the sandbox too (one write per pod start instead of two). If volumes hold the start up, the
    // first failed attempt writes it (setupVolumes).
    this.sandboxReady = true;
  }

  /** Retries until every volume could be set up (a missing ConfigMap may be created later). */
  private async setupVolumes(): Promise<boolean> {
    while (!this.stopping) {
      try {
        await this.fetchVolumeSources();
        this.fs.setupVolumes(this.pod, (v) => this.payload(v));
        return true;
      } catch (err) {
        if (!(err instanceof ContainerConfigError)) throw err;
        this.deps.log.info({ err: err.message }, 'volumes not ready');
        this.event('Warning', 'FailedMount', `MountVolume.SetUp failed: ${err.message}`);
        this.statusWriter.markDirty();
        await this.pause(CONFIG_RETRY_MS);
      }
    }
    return false;
  }

  private async fetchVolumeSources(): Promise<void> {
    await this.deps.config.prefetch(configRefsOf(this.pod));
    await this.fetchTokens();
  }

  private refreshVolumes(): void {
    if (this.stopping || !this.sandboxReady) return;
    try {
      this.fs.refreshProjections(this.pod, (v) => this.payload(v));
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message }, 'volume refresh failed');
    }
  }

  private payload(volume: V1Volume) {
    return volumePayload(
      volume,
      this.pod,
      this.deps.config,
      this.facts(),
      (audience) => this.tokens.get(audience ?? '') ?? '',
    );
  }

  /**
   * Projected service-account tokens come from the TokenRequest API, like the kubelet's, so programs in
   * the pod can authenticate as the pod's ServiceAccount (tokens are not refreshed: tests are short).
   */
  private async fetchTokens(): Promise<void> {
    const sources = (this.pod.spec?.volumes ?? []).flatMap((v) => v.projected?.sources ?? []);
    for (const source of sources) {
      const t = source.serviceAccountToken;
      if (!t || this.tokens.has(t.audience ?? '')) continue;
      const name = this.pod.spec?.serviceAccountName ?? 'default';
      const namespace = this.pod.metadata?.namespace ?? 'default';
      const request = await this.deps.kube
        .request<{ status?: { token?: string } }>(
          'POST',
          `/api/v1/namespaces/${encodeURIComponent(namespace)}/serviceaccounts/${encodeURIComponent(name)}/token`,
          {
            body: {
              apiVersion: 'authentication.k8s.io/v1',
              kind: 'TokenRequest',
              spec: {
                audiences: t.audience ? [t.audience] : [],
                expirationSeconds: t.expirationSeconds ?? 3600,
                boundObjectRef: {
                  apiVersion: 'v1',
                  kind: 'Pod',
                  name: this.pod.metadata?.name,
                  uid: this.uid,
                },
              },
            },
          },
        )
        .catch((err: Error) => {
          throw new VolumeNotReadyError(`service account token: ${err.message}`);
        });
      this.tokens.set(t.audience ?? '', request.status?.token ?? '');
    }
  }

  private facts() {
    return { podIP: this.podIP, hostIP: this.deps.hostIP };
  }

  /** The pod as its containers see it; getters, because the pod object and sandbox change. */
  private containerHost(): ContainerHost {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- getters of an object literal need the worker
    const worker = this;
    const { deps } = this;
    return {
      get pod() {
        return worker.pod;
      },
      get podRef() {
        return worker.podRef;
      },
      fs: this.fs,
      get podIP() {
        return worker.podIP;
      },
      hostIP: deps.hostIP,
      get execPrefix() {
        return worker.execPrefix;
      },
      get namespaces() {
        return worker.namespaces;
      },
      get stopping() {
        return worker.stopping;
      },
      images: deps.images,
      config: deps.config,
      backoff: deps.backoff,
      clock: deps.clock,
      log: deps.log,
      statusChanged: () => this.statusWriter.markDirty(),
      phase: (name) => this.phase(name),
      pause: (ms) => this.pause(ms),
      event: (type, reason, message, container) => this.event(type, reason, message, container),
    };
  }

  private get podRef(): string {
    return `${this.pod.metadata?.name}_${this.pod.metadata?.namespace}(${this.uid})`;
  }

  private event(type: EventType, reason: string, message: string, container?: string): void {
    this.deps.events.record(this.pod, type, reason, message, container);
  }

  /** Sleeps, but wakes at once when the pod starts terminating. */
  private pause(ms: number): Promise<void> {
    return Promise.race([sleep(ms, this.deps.clock), this.stopSignal]);
  }

  private async writeStatus(): Promise<void> {
    const status = computePodStatus(
      {
        restartPolicy: (this.pod.spec?.restartPolicy ?? 'Always') as RestartPolicy,
        initContainers: this.initContainers.map((c) => c.record),
        containers: this.appContainers.map((c) => c.record),
        sandboxReady: this.sandboxReady,
        podIP: this.podIP,
        hostIP: this.deps.hostIP,
        startTime: this.startTime,
        previousConditions: this.pod.status?.conditions,
      },
      new Date(this.deps.clock.now()),
    );
    const writeStarted = performance.now();
    this.statusWrites += 1;
    if (status.phase === 'Running') this.phase('statusSent');
    try {
      const { name, namespace } = this.pod.metadata ?? {};
      await this.deps.kube.request(
        'PATCH',
        `/api/v1/namespaces/${encodeURIComponent(namespace ?? '')}/pods/${encodeURIComponent(name ?? '')}/status`,
        { body: { status }, contentType: 'application/merge-patch+json' },
      );
      if (status.phase === 'Running' && !this.startLogged) {
        this.startLogged = true;
        this.phase('runningWritten');
        this.deps.log.info(
          {
            ...this.startPhases,
            seenAt: Math.round(this.createdAt),
            lastWriteMs: Math.round(performance.now() - writeStarted),
            writes: this.statusWrites,
          },
          'pod running',
        );
      }
    } catch (err) {
      // The pod is gone (force-deleted): nothing left to report.
      if ((err as { code?: number }).code === 404) return;
      throw err;
    } finally {
      // The start is reported (or could not be): the events that describe it may go out now.
      this.releaseEvents();
    }
  }
}
