import {
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  V1Container,
  V1Pod,
  V1Probe,
  V1Volume,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { containerArgv, ImageManifest, ImageStore } from '../image-store';
import type { ClusterNetwork } from '../network';
import { ManagedProcess } from '../process';
import { backoffDelayMs, BackoffPolicy, BackoffState, recordCrash } from './backoff';
import { ConfigCache, configRefsOf } from './config-cache';
import { checkLaunchable, processEnv, resolveWorkingDir } from './container-launch';
import { ContainerRecord, ContainerState, exitCodeOf, terminatedReason } from './container-state';
import { ContainerConfigError, expandVars, resolveEnv } from './env';
import type { EventRecorder, EventType } from './event-recorder';
import { PodFilesystem } from './pod-filesystem';
import { computePodStatus, RestartPolicy } from './pod-status';
import { ProbeLoop, ProbeTarget } from './probes';
import { StatusWriter } from './status-writer';
import type { ExecContext } from './streaming';
import { volumePayload, VolumeNotReadyError } from './volume-payload';

export interface PodWorkerDeps {
  core: CoreV1Api;
  network: ClusterNetwork;
  nodeIndex: number;
  hostIP: string;
  images: ImageStore;
  config: ConfigCache;
  /** This pod's directory (volumes, container roots, logs). */
  podDir: string;
  backoff: BackoffPolicy;
  events: EventRecorder;
  log: Logger;
}

type Terminated = Extract<ContainerState, { kind: 'terminated' }>;

/** Live state of one container beyond what the API sees. */
interface ContainerSlot {
  spec: V1Container;
  record: ContainerRecord;
  process?: ManagedProcess;
  probes: ProbeLoop[];
  crashes: BackoffState;
  /** How the current run was started (for exec into it). */
  launch?: { env: NodeJS.ProcessEnv; cwd: string };
}

const CONFIG_RETRY_MS = 1000;
const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };

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
  private readonly initSlots: ContainerSlot[];
  private readonly appSlots: ContainerSlot[];
  private readonly startTime = new Date();
  private podIP: string | undefined;
  private execPrefix: string[] = [];
  private sandboxReady = false;
  private stopping = false;
  private stopRequested!: () => void;
  private readonly stopSignal = new Promise<void>((resolve) => (this.stopRequested = resolve));
  private running: Promise<void> | undefined;
  private termination: Promise<void> | undefined;
  private readonly unsubscribeConfig: () => void;
  private readonly tokens = new Map<string, string>();

  constructor(
    pod: V1Pod,
    private readonly deps: PodWorkerDeps,
  ) {
    this.pod = pod;
    this.fs = new PodFilesystem(deps.podDir);
    this.statusWriter = new StatusWriter(
      () => this.writeStatus(),
      (err) => deps.log.warn({ err: err.message }, 'pod status update failed'),
    );
    const hasInit = (pod.spec?.initContainers ?? []).length > 0;
    const slot = (spec: V1Container, reason: string): ContainerSlot => ({
      spec,
      record: {
        name: spec.name,
        image: spec.image ?? '',
        state: { kind: 'waiting', reason },
        restartCount: 0,
        ready: false,
        started: false,
      },
      probes: [],
      crashes: { crashes: 0 },
    });
    this.initSlots = (pod.spec?.initContainers ?? []).map((c) => slot(c, 'PodInitializing'));
    this.appSlots = (pod.spec?.containers ?? []).map((c) =>
      slot(c, hasInit ? 'PodInitializing' : 'ContainerCreating'),
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
    const slot = [...this.initSlots, ...this.appSlots].find((s) => s.spec.name === container);
    if (!slot) return undefined;
    const run = slot.record.restartCount - (previous ? 1 : 0);
    if (run < 0) return undefined;
    const process = slot.process;
    return {
      file: this.fs.logFile(container, run),
      live: () => !previous && Boolean(process && !process.hasExited),
    };
  }

  /** How to run a command alongside a running container (kubectl exec), or undefined. */
  execContext(container: string): ExecContext | undefined {
    const slot = [...this.initSlots, ...this.appSlots].find((s) => s.spec.name === container);
    if (!slot?.launch || slot.record.state.kind !== 'running') return undefined;
    return { execPrefix: this.execPrefix, env: slot.launch.env, cwd: slot.launch.cwd };
  }

  get currentPodIP(): string | undefined {
    return this.sandboxReady ? this.podIP : undefined;
  }

  start(): void {
    this.running = this.run().catch((err: Error) =>
      this.deps.log.error({ err: err.message, stack: err.stack }, 'pod worker failed'),
    );
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
      this.stopRequested();
      const slots = [...this.initSlots, ...this.appSlots];
      for (const slot of slots) {
        this.stopProbes(slot);
        if (slot.process && !slot.process.hasExited) {
          this.event('Normal', 'Killing', `Stopping container ${slot.spec.name}`, slot.spec.name);
        }
      }
      this.deps.log.info({ graceSeconds }, 'terminating pod');
      await Promise.all(slots.map((s) => s.process?.stop(graceSeconds * 1000)));
      await this.running;
      if (deleteFromApi) {
        this.statusWriter.markDirty();
        await this.statusWriter.flush();
      }
      this.statusWriter.close();
      this.unsubscribeConfig();
      await this.deps.network.deleteSandbox(this.uid);
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

  private async run(): Promise<void> {
    const t0 = performance.now();
    await this.createSandbox();
    const t1 = performance.now();
    if (!(await this.setupVolumes())) return;
    this.deps.log.info(
      { sandboxMs: Math.round(t1 - t0), volumesMs: Math.round(performance.now() - t1) },
      'pod sandbox ready',
    );
    for (const slot of this.initSlots) {
      const ok = await this.superviseContainer(slot, true);
      if (!ok) return this.finish();
    }
    await Promise.all(this.appSlots.map((slot) => this.superviseContainer(slot, false)));
    await this.finish();
  }

  /** Pod reached Succeeded/Failed (or is stopping): release the network like the kubelet frees the sandbox. */
  private async finish(): Promise<void> {
    this.statusWriter.markDirty();
    await this.statusWriter.flush();
    if (!this.stopping) {
      this.sandboxReady = false;
      await this.deps.network.deleteSandbox(this.uid);
      this.statusWriter.markDirty();
    }
  }

  private async createSandbox(): Promise<void> {
    if (this.pod.spec?.hostNetwork) {
      this.podIP = this.deps.hostIP;
      this.execPrefix = [];
    } else {
      const sandbox = await this.deps.network.createSandbox(this.uid, this.deps.nodeIndex);
      this.podIP = sandbox.ip;
      this.execPrefix = sandbox.execPrefix;
    }
    this.sandboxReady = true;
    this.statusWriter.markDirty();
  }

  /** Retries until every volume could be set up (a missing ConfigMap may be created later). */
  private async setupVolumes(): Promise<boolean> {
    while (!this.stopping) {
      try {
        await this.deps.config.prefetch(configRefsOf(this.pod));
        await this.fetchTokens();
        this.fs.setupVolumes(this.pod, (v) => this.payload(v));
        return true;
      } catch (err) {
        if (!(err instanceof ContainerConfigError)) throw err;
        this.deps.log.info({ err: err.message }, 'volumes not ready');
        this.event('Warning', 'FailedMount', `MountVolume.SetUp failed: ${err.message}`);
        await this.pause(CONFIG_RETRY_MS);
      }
    }
    return false;
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
      const request = await this.deps.core
        .createNamespacedServiceAccountToken({
          name: this.pod.spec?.serviceAccountName ?? 'default',
          namespace: this.pod.metadata?.namespace ?? 'default',
          body: {
            spec: {
              audiences: t.audience ? [t.audience] : [],
              expirationSeconds: t.expirationSeconds ?? 3600,
              boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: this.pod.metadata?.name, uid: this.uid },
            },
          },
        })
        .catch((err: Error) => {
          throw new VolumeNotReadyError(`service account token: ${err.message}`);
        });
      this.tokens.set(t.audience ?? '', request.status?.token ?? '');
    }
  }

  private facts() {
    return { podIP: this.podIP, hostIP: this.deps.hostIP };
  }

  /**
   * Runs one container until the restart policy says it is done. For init containers, returns whether
   * it completed successfully; app containers return when they will not be restarted.
   */
  private async superviseContainer(slot: ContainerSlot, isInit: boolean): Promise<boolean> {
    const policy = (this.pod.spec?.restartPolicy ?? 'Always') as RestartPolicy;
    let imageFailures: BackoffState = { crashes: 0 };
    while (!this.stopping) {
      const image = this.deps.images.resolve(slot.spec.image ?? '');
      if (!image) {
        imageFailures = recordCrash(imageFailures, 0, this.deps.backoff);
        await this.imagePullFailed(slot, backoffDelayMs(imageFailures, this.deps.backoff));
        continue;
      }
      const exit = await this.runOnce(slot, image);
      if (exit === 'config-error') {
        await this.pause(CONFIG_RETRY_MS);
        continue;
      }
      if (exit === 'stopped') return false;
      const success = exit.exitCode === 0;
      if (isInit && success) return true;
      const restart = isInit
        ? policy !== 'Never'
        : policy === 'Always' || (policy === 'OnFailure' && !success);
      if (!restart || this.stopping) return success;
      slot.crashes = recordCrash(
        slot.crashes,
        exit.finishedAt.getTime() - (exit.startedAt?.getTime() ?? 0),
        this.deps.backoff,
      );
      const delay = backoffDelayMs(slot.crashes, this.deps.backoff);
      slot.record = { ...slot.record, restartCount: slot.record.restartCount + 1, lastState: exit };
      if (delay > 0) {
        this.event(
          'Warning',
          'BackOff',
          `Back-off restarting failed container ${slot.spec.name} in pod ${this.podRef}`,
          slot.spec.name,
        );
        slot.record.state = {
          kind: 'waiting',
          reason: 'CrashLoopBackOff',
          message: `back-off ${Math.round(delay / 1000)}s restarting failed container=${slot.spec.name} pod=${this.podRef}`,
        };
        this.statusWriter.markDirty();
        await this.pause(delay);
      }
    }
    return false;
  }

  /** ErrImagePull, then ImagePullBackOff until the next attempt (as the kubelet reports a failed pull). */
  private async imagePullFailed(slot: ContainerSlot, delayMs: number): Promise<void> {
    const message = `image "${slot.spec.image}" not found in the local image store (${this.deps.images.dir})`;
    slot.record.state = { kind: 'waiting', reason: 'ErrImagePull', message };
    this.event('Warning', 'Failed', `Failed to pull image "${slot.spec.image}": ${message}`, slot.spec.name);
    this.statusWriter.markDirty();
    await this.pause(Math.min(1000, Math.max(delayMs, 500)));
    if (this.stopping) return;
    slot.record.state = {
      kind: 'waiting',
      reason: 'ImagePullBackOff',
      message: `Back-off pulling image "${slot.spec.image}": ${message}`,
    };
    this.event('Normal', 'BackOff', `Back-off pulling image "${slot.spec.image}"`, slot.spec.name);
    this.statusWriter.markDirty();
    await this.pause(Math.max(delayMs, 1000));
  }

  /** One run of the container: start, probe, wait for exit. */
  private async runOnce(
    slot: ContainerSlot,
    image: ImageManifest,
  ): Promise<Terminated | 'config-error' | 'stopped'> {
    const { spec } = slot;
    let plan;
    try {
      await this.deps.config.prefetch(configRefsOf(this.pod));
      const resolved = resolveEnv(this.pod, spec, image.env ?? {}, this.deps.config, this.facts());
      const root = this.fs.prepareContainerRoot(this.pod, spec);
      const env = processEnv(resolved, {
        podName: this.pod.metadata?.name ?? '',
        podIP: this.podIP ?? '',
        containerRoot: root,
        image,
      });
      const argv = containerArgv(image, spec).map((a) => expandVars(a, env));
      plan = { argv, env, cwd: resolveWorkingDir(spec.workingDir ?? image.workingDir, root) };
    } catch (err) {
      if (!(err instanceof ContainerConfigError)) throw err;
      slot.record.state = { kind: 'waiting', reason: 'CreateContainerConfigError', message: err.message };
      this.event('Warning', 'Failed', `Error: ${err.message}`, spec.name);
      this.statusWriter.markDirty();
      return 'config-error';
    }
    if (this.stopping) return 'stopped';

    const problem = checkLaunchable(plan, spec);
    const startedAt = new Date();
    if (problem) {
      const exit: Terminated = {
        kind: 'terminated',
        exitCode: 128,
        reason: problem.reason,
        message: problem.message,
        startedAt,
        finishedAt: new Date(),
      };
      slot.record.state = exit;
      this.event('Warning', 'Failed', `Error: ${problem.message}`, spec.name);
      this.statusWriter.markDirty();
      return exit;
    }
    this.event('Normal', 'Pulled', `Container image "${spec.image}" already present on machine`, spec.name);
    this.event('Normal', 'Created', `Created container: ${spec.name}`, spec.name);

    const argv = [...this.execPrefix, ...plan.argv];
    const process = ManagedProcess.start({
      name: `${this.key}/${spec.name}`,
      command: argv[0],
      args: argv.slice(1),
      logFile: this.fs.logFile(spec.name, slot.record.restartCount),
      env: plan.env,
      cwd: plan.cwd,
    });
    slot.process = process;
    slot.launch = { env: plan.env, cwd: plan.cwd };
    const hasStartup = Boolean(spec.startupProbe);
    slot.record = {
      ...slot.record,
      state: { kind: 'running', startedAt },
      ready: !spec.readinessProbe && !hasStartup,
      started: !hasStartup,
    };
    this.deps.log.info({ container: spec.name, pid: process.pid, argv: plan.argv }, 'container started');
    this.event('Normal', 'Started', `Started container ${spec.name}`, spec.name);
    this.statusWriter.markDirty();
    this.startProbes(slot, {
      podIP: this.podIP ?? '',
      container: spec,
      execPrefix: this.execPrefix,
      env: plan.env,
      cwd: plan.cwd,
    });

    const result = await process.exited;
    this.stopProbes(slot);
    const signal = result.signal ? SIGNALS[result.signal] : undefined;
    const exitCode = exitCodeOf(result.code, signal);
    const exit: Terminated = {
      kind: 'terminated',
      exitCode,
      signal,
      reason: terminatedReason(exitCode),
      startedAt,
      finishedAt: new Date(),
    };
    slot.record = { ...slot.record, state: exit, ready: false, started: false };
    this.deps.log.info({ container: spec.name, exitCode }, 'container exited');
    this.statusWriter.markDirty();
    return exit;
  }

  /**
   * Startup probe first (if any); once it passes, readiness (drives `ready`) and liveness (a failure
   * kills the container, which the restart policy then restarts).
   */
  private startProbes(slot: ContainerSlot, target: ProbeTarget): void {
    const { spec } = slot;
    const kill = (probe: string) => {
      this.deps.log.info({ container: spec.name, probe }, 'probe failed, killing container');
      this.event(
        'Normal',
        'Killing',
        `Container ${spec.name} failed ${probe} probe, will be restarted`,
        spec.name,
      );
      void slot.process?.stop((this.pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000);
    };
    const loop = (kind: string, probe: V1Probe, initial: boolean, onChange: (ok: boolean) => void) => {
      const l = new ProbeLoop(probe, target, initial, (ok, outcome) => {
        if (!ok)
          this.event('Warning', 'Unhealthy', `${kind} probe failed: ${outcome.message ?? ''}`, spec.name);
        onChange(ok);
      });
      slot.probes.push(l);
      l.start();
      return l;
    };
    const afterStartup = () => {
      if (spec.readinessProbe) {
        loop('Readiness', spec.readinessProbe, false, (ok) => {
          slot.record.ready = ok;
          this.statusWriter.markDirty();
        });
      }
      if (spec.livenessProbe) loop('Liveness', spec.livenessProbe, true, (ok) => !ok && kill('liveness'));
    };
    if (!spec.startupProbe) return afterStartup();
    const startup = loop('Startup', spec.startupProbe, false, (ok) => {
      if (!ok) return kill('startup');
      startup.stop();
      slot.record.started = true;
      if (!spec.readinessProbe) slot.record.ready = true;
      this.statusWriter.markDirty();
      afterStartup();
    });
  }

  private stopProbes(slot: ContainerSlot): void {
    for (const p of slot.probes) p.stop();
    slot.probes = [];
  }

  private get podRef(): string {
    return `${this.pod.metadata?.name}_${this.pod.metadata?.namespace}(${this.uid})`;
  }

  private event(type: EventType, reason: string, message: string, container?: string): void {
    this.deps.events.record(this.pod, type, reason, message, container);
  }

  /** Sleeps, but wakes at once when the pod starts terminating. */
  private pause(ms: number): Promise<void> {
    return Promise.race([new Promise<void>((r) => setTimeout(r, ms).unref()), this.stopSignal]);
  }

  private async writeStatus(): Promise<void> {
    const status = computePodStatus(
      {
        restartPolicy: (this.pod.spec?.restartPolicy ?? 'Always') as RestartPolicy,
        initContainers: this.initSlots.map((s) => s.record),
        containers: this.appSlots.map((s) => s.record),
        sandboxReady: this.sandboxReady,
        podIP: this.podIP,
        hostIP: this.deps.hostIP,
        startTime: this.startTime,
        previousConditions: this.pod.status?.conditions,
      },
      new Date(),
    );
    try {
      await this.deps.core.patchNamespacedPodStatus(
        {
          name: this.pod.metadata?.name ?? '',
          namespace: this.pod.metadata?.namespace ?? '',
          body: { status },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    } catch (err) {
      // The pod is gone (force-deleted): nothing left to report.
      if ((err as { code?: number }).code === 404) return;
      throw err;
    }
  }
}
