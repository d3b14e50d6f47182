import { type Clock, ManagedProcess, sharedLauncher } from '../../host';
import type { V1Container, V1Pod, V1Probe } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { containerArgv, ImageManifest, ImageStore } from '../image-store';
import { backoffDelayMs, BackoffPolicy, BackoffState, recordCrash } from './backoff';
import { ConfigCache, configRefsOf } from './config-cache';
import { checkLaunchable, processEnv, resolveWorkingDir } from './container-launch';
import { ContainerRecord, ContainerState, exitCodeOf, terminatedReason } from './container-state';
import { ContainerConfigError, expandVars, resolveEnv } from './env';
import { podMountNamespacePrefix, seedPodHosts } from './pod-mount-namespace';
import { execArgvPrefix, type PodNamespaces } from './pod-namespaces';
import type { EventType } from './event-recorder';
import type { PodFilesystem } from './pod-filesystem';
import type { RestartPolicy } from './pod-status';
import { ProbeLoop, ProbeTarget } from './probes';
import type { AttachTarget, ExecContext } from './streaming';

/** What a container needs from the pod it belongs to (implemented by the PodWorker). */
export interface ContainerHost {
  /** The latest version of the pod. */
  readonly pod: V1Pod;
  readonly podRef: string;
  readonly fs: PodFilesystem;
  readonly podIP: string | undefined;
  readonly hostIP: string;
  /** Prefix that runs a program in the pod's network namespace. */
  readonly execPrefix: readonly string[];
  /** The pod's UTS/IPC namespaces and how containers get their PID namespace (pod-namespaces.ts). */
  readonly namespaces: PodNamespaces | undefined;
  /** The pod is terminating: start nothing new. */
  readonly stopping: boolean;
  readonly images: ImageStore;
  readonly config: ConfigCache;
  readonly backoff: BackoffPolicy;
  readonly clock: Clock;
  readonly log: Logger;
  statusChanged(): void;
  /** Records the first time a start phase was reached (for the pod's start timing log). */
  phase(name: string): void;
  /** Sleeps, waking early when the pod starts terminating. */
  pause(ms: number): Promise<void>;
  event(type: EventType, reason: string, message: string, container?: string): void;
}

type Terminated = Extract<ContainerState, { kind: 'terminated' }>;

const CONFIG_RETRY_MS = 1000;
const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };

/**
 * One container of a pod through its runs: image lookup (ErrImagePull/ImagePullBackOff), env and
 * mounts, the process in the pod's network namespace, probes, and restarts with back-off
 * (CrashLoopBackOff). `record` is what the pod status reports about it.
 */
export class ContainerRunner {
  record: ContainerRecord;
  private process: ManagedProcess | undefined;
  /** A start in flight (the launcher has not reported the PID yet). */
  private starting: Promise<ManagedProcess> | undefined;
  private probes: ProbeLoop[] = [];
  private crashes: BackoffState = { crashes: 0 };
  /** How the current run was started (for exec into it). */
  private launch: { env: NodeJS.ProcessEnv; cwd: string } | undefined;

  constructor(
    readonly spec: V1Container,
    private readonly host: ContainerHost,
    initialReason: string,
  ) {
    this.record = {
      name: spec.name,
      image: spec.image ?? '',
      state: { kind: 'waiting', reason: initialReason },
      restartCount: 0,
      ready: false,
      started: false,
    };
  }

  get name(): string {
    return this.spec.name;
  }

  get isRunning(): boolean {
    return Boolean(this.process && !this.process.hasExited);
  }

  /** The log file of the current (or previous) run, for the containerLogs endpoint. */
  logFile(previous: boolean): { file: string; live: () => boolean } | undefined {
    const run = this.record.restartCount - (previous ? 1 : 0);
    if (run < 0) return undefined;
    const process = this.process;
    return {
      file: this.host.fs.logFile(this.name, run),
      live: () => !previous && Boolean(process && !process.hasExited),
    };
  }

  /** How to run a command alongside the running process (kubectl exec), or undefined. */
  execContext(): ExecContext | undefined {
    if (!this.launch || this.record.state.kind !== 'running') return undefined;
    const inContainer = this.containerNamespaces();
    if (!inContainer) return undefined;
    return {
      execPrefix: [...inContainer, ...this.execMounts()],
      env: this.launch.env,
      cwd: this.launch.cwd,
    };
  }

  /**
   * nsenter into every namespace of the running container's first process (its PID namespace, its
   * /proc, the pod's UTS, IPC and network namespaces); undefined while that process does not exist.
   */
  private containerNamespaces(): string[] | undefined {
    const process = this.process;
    const namespaces = this.host.namespaces;
    if (!process || process.hasExited) return undefined;
    if (!namespaces) return [...this.host.execPrefix];
    const initPid = namespaces.initPid(process.pid);
    return initPid === undefined || !this.launch ? undefined : execArgvPrefix(initPid, this.launch.cwd);
  }

  /** Runs an exec'd command in the pod's private mount namespace (see pod-mount-namespace.ts). */
  private execMounts(): string[] {
    try {
      const mountPaths = (this.spec.volumeMounts ?? []).map((m) => m.mountPath);
      return podMountNamespacePrefix(this.host.fs.containerRoot(this.name), mountPaths);
    } catch (err) {
      // exec still works, only with the host's view of the filesystem.
      this.host.log.warn(
        { container: this.name, err: (err as Error).message },
        'no mount namespace for exec',
      );
      return [];
    }
  }

  /** The running process for kubectl attach, or undefined. */
  attachTarget(): AttachTarget | undefined {
    const process = this.process;
    if (!process || process.hasExited || this.record.state.kind !== 'running') return undefined;
    return {
      stdin: process.stdin,
      logFile: process.logFile,
      exited: process.exited.then((r) => exitCodeOf(r.code, r.signal ? SIGNALS[r.signal] : undefined)),
    };
  }

  /** SIGTERM to the process group, SIGKILL after `graceMs`. Resolves when the process is gone. */
  async stop(graceMs: number): Promise<void> {
    this.stopProbes();
    const starting = await this.starting?.catch(() => undefined);
    await (starting ?? this.process)?.stop(graceMs);
  }

  /**
   * Runs the container until the restart policy says it is done. Init containers return whether they
   * completed successfully; app containers return when they will not be restarted.
   */
  async supervise(isInit: boolean): Promise<boolean> {
    const policy = (this.host.pod.spec?.restartPolicy ?? 'Always') as RestartPolicy;
    const backoff = this.host.backoff;
    let imageFailures: BackoffState = { crashes: 0 };
    while (!this.host.stopping) {
      const image = this.host.images.resolve(this.spec.image ?? '');
      if (!image) {
        imageFailures = recordCrash(imageFailures, 0, backoff);
        await this.imagePullFailed(backoffDelayMs(imageFailures, backoff));
        continue;
      }
      const exit = await this.runOnce(image);
      if (exit === 'config-error') {
        await this.host.pause(CONFIG_RETRY_MS);
        continue;
      }
      if (exit === 'stopped') return false;
      const success = exit.exitCode === 0;
      if (isInit && success) return true;
      const restart = isInit
        ? policy !== 'Never'
        : policy === 'Always' || (policy === 'OnFailure' && !success);
      if (!restart || this.host.stopping) return success;
      const ranFor = exit.finishedAt.getTime() - (exit.startedAt?.getTime() ?? 0);
      this.crashes = recordCrash(this.crashes, ranFor, backoff);
      const delay = backoffDelayMs(this.crashes, backoff);
      this.record = { ...this.record, restartCount: this.record.restartCount + 1, lastState: exit };
      if (delay > 0) {
        this.host.event(
          'Warning',
          'BackOff',
          `Back-off restarting failed container ${this.name} in pod ${this.host.podRef}`,
          this.name,
        );
        this.record.state = {
          kind: 'waiting',
          reason: 'CrashLoopBackOff',
          message: `back-off ${Math.round(delay / 1000)}s restarting failed container=${this.name} pod=${this.host.podRef}`,
        };
        this.host.statusChanged();
        await this.host.pause(delay);
      }
    }
    return false;
  }

  /** ErrImagePull, then ImagePullBackOff until the next attempt (as the kubelet reports a failed pull). */
  private async imagePullFailed(delayMs: number): Promise<void> {
    const image = this.spec.image;
    const message = `image "${image}" not found in the local image store (${this.host.images.dir})`;
    this.record.state = { kind: 'waiting', reason: 'ErrImagePull', message };
    this.host.event('Warning', 'Failed', `Failed to pull image "${image}": ${message}`, this.name);
    this.host.statusChanged();
    await this.host.pause(Math.min(1000, Math.max(delayMs, 500)));
    if (this.host.stopping) return;
    this.record.state = {
      kind: 'waiting',
      reason: 'ImagePullBackOff',
      message: `Back-off pulling image "${image}": ${message}`,
    };
    this.host.event('Normal', 'BackOff', `Back-off pulling image "${image}"`, this.name);
    this.host.statusChanged();
    await this.host.pause(Math.max(delayMs, 1000));
  }

  /** What to exec, with which env and where; a ContainerConfigError if a reference is missing. */
  private async plan(
    image: ImageManifest,
  ): Promise<{ argv: string[]; env: Record<string, string>; cwd: string }> {
    const { pod, fs, config } = this.host;
    await config.prefetch(configRefsOf(pod));
    const resolved = resolveEnv(pod, this.spec, image.env ?? {}, config, {
      podIP: this.host.podIP,
      hostIP: this.host.hostIP,
    });
    const root = fs.prepareContainerRoot(pod, this.spec);
    const env = processEnv(resolved, {
      podName: pod.metadata?.name ?? '',
      podIP: this.host.podIP ?? '',
      containerRoot: root,
      tmpDir: fs.tmpDir,
      image,
    });
    const argv = containerArgv(image, this.spec).map((a) => expandVars(a, env));
    return { argv, env, cwd: resolveWorkingDir(this.spec.workingDir ?? image.workingDir, root) };
  }

  /** One run: start, probe, wait for the exit. */
  private async runOnce(image: ImageManifest): Promise<Terminated | 'config-error' | 'stopped'> {
    const { spec, host } = this;
    let plan;
    try {
      plan = await this.plan(image);
      host.phase('planned');
    } catch (err) {
      if (!(err instanceof ContainerConfigError)) throw err;
      this.record.state = { kind: 'waiting', reason: 'CreateContainerConfigError', message: err.message };
      host.event('Warning', 'Failed', `Error: ${err.message}`, spec.name);
      host.statusChanged();
      return 'config-error';
    }
    // No await between this check and the start: a termination cannot slip in and miss the process.
    if (host.stopping) return 'stopped';

    const startedAt = new Date(host.clock.now());
    const problem = checkLaunchable(plan, spec);
    if (problem) {
      const exit: Terminated = {
        kind: 'terminated',
        exitCode: 128,
        reason: problem.reason,
        message: problem.message,
        startedAt,
        finishedAt: new Date(host.clock.now()),
      };
      this.record.state = exit;
      host.event('Warning', 'Failed', `Error: ${problem.message}`, spec.name);
      host.statusChanged();
      return exit;
    }
    host.event('Normal', 'Pulled', `Container image "${spec.image}" already present on machine`, spec.name);
    host.event('Normal', 'Created', `Created container: ${spec.name}`, spec.name);

    const argv = host.namespaces
      ? host.namespaces.containerArgv(plan.argv, plan.cwd)
      : [...host.execPrefix, ...plan.argv];
    try {
      seedPodHosts(host.fs.containerRoot(spec.name));
    } catch (err) {
      host.log.warn({ container: spec.name, err: (err as Error).message }, 'cannot seed the pod /etc/hosts');
    }
    // Started by the launcher's helper (a fork of the agent's large process costs its event loop
    // milliseconds); `stop` waits for a start in flight, so a termination meanwhile still finds it.
    this.starting = ManagedProcess.launch(
      {
        name: `${host.podRef}/${spec.name}`,
        command: argv[0],
        args: argv.slice(1),
        logFile: host.fs.logFile(spec.name, this.record.restartCount),
        env: plan.env,
        cwd: plan.cwd,
        stdin: Boolean(spec.stdin),
      },
      sharedLauncher(),
    );
    let process: ManagedProcess;
    try {
      process = await this.starting;
    } finally {
      this.starting = undefined;
    }
    this.process = process;
    this.launch = { env: plan.env, cwd: plan.cwd };
    host.phase('spawned');

    const hasStartup = Boolean(spec.startupProbe);
    this.record = {
      ...this.record,
      state: { kind: 'running', startedAt },
      ready: !spec.readinessProbe && !hasStartup,
      started: !hasStartup,
    };
    host.log.info({ container: spec.name, pid: process.pid, argv: plan.argv }, 'container started');
    host.event('Normal', 'Started', `Started container ${spec.name}`, spec.name);
    host.statusChanged();
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the probe target's getter needs the runner
    const runner = this;
    this.startProbes({
      podIP: host.podIP ?? '',
      container: spec,
      // Exec probes run inside the container, like kubectl exec (the network namespace alone until the
      // container's first process exists).
      get execPrefix() {
        return runner.containerNamespaces() ?? host.execPrefix;
      },
      env: plan.env,
      cwd: plan.cwd,
    });

    const result = await process.exited;
    this.stopProbes();
    const signal = result.signal ? SIGNALS[result.signal] : undefined;
    const exitCode = exitCodeOf(result.code, signal);
    const exit: Terminated = {
      kind: 'terminated',
      exitCode,
      signal,
      reason: terminatedReason(exitCode),
      startedAt,
      finishedAt: new Date(host.clock.now()),
    };
    this.record = { ...this.record, state: exit, ready: false, started: false };
    host.log.info({ container: spec.name, exitCode }, 'container exited');
    host.statusChanged();
    return exit;
  }

  /**
   * Startup probe first (if any); once it passes, readiness (drives `ready`) and liveness (a failure
   * kills the container, which the restart policy then restarts).
   */
  private startProbes(target: ProbeTarget): void {
    const { spec, host } = this;
    const kill = (probe: string) => {
      host.log.info({ container: spec.name, probe }, 'probe failed, killing container');
      host.event(
        'Normal',
        'Killing',
        `Container ${spec.name} failed ${probe} probe, will be restarted`,
        spec.name,
      );
      void this.process?.stop((host.pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000);
    };
    const loop = (kind: string, probe: V1Probe, initial: boolean, onChange: (ok: boolean) => void) => {
      const l = new ProbeLoop(probe, target, initial, host.clock, (ok, outcome) => {
        if (!ok)
          host.event('Warning', 'Unhealthy', `${kind} probe failed: ${outcome.message ?? ''}`, spec.name);
        onChange(ok);
      });
      this.probes.push(l);
      l.start();
      return l;
    };
    const afterStartup = () => {
      if (spec.readinessProbe) {
        loop('Readiness', spec.readinessProbe, false, (ok) => {
          this.record.ready = ok;
          host.statusChanged();
        });
      }
      if (spec.livenessProbe) loop('Liveness', spec.livenessProbe, true, (ok) => !ok && kill('liveness'));
    };
    if (!spec.startupProbe) return afterStartup();
    const startup = loop('Startup', spec.startupProbe, false, (ok) => {
      if (!ok) return kill('startup');
      startup.stop();
      this.record.started = true;
      if (!spec.readinessProbe) this.record.ready = true;
      host.statusChanged();
      afterStartup();
    });
  }

  private stopProbes(): void {
    for (const p of this.probes) p.stop();
    this.probes = [];
  }
}
