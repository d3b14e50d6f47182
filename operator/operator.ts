/**
 * The composition root: clients, informers, the three controllers (VirtualMachine, migration, TLS),
 * event routing, webhooks, leader election and the probe/metrics servers, and their lifecycle. Every
 * replica serves webhooks; only the leader runs informers and controllers. What each part does lives
 * in its module; this file only connects them.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { VirtualMachine, VirtualMachineMigration } from '../crds';
import { systemClock, type Clock } from '../host';
import {
  CustomResourceClient,
  KubeClient,
  TokenBucket,
  admissionApi,
  connectionFromKubeConfig,
  coordinationApi,
  coreApi,
  customObjectsApi,
  requestResource,
  type CustomObjectsClient,
  type KubeConnection,
  type RequestRateLimit,
} from '../kube';
import {
  Controller,
  FailingReporter,
  HealthServer,
  KubeEventRecorder,
  KubeLeaseStore,
  LeaderElector,
  OperatorMetrics,
  WorkQueue,
  WriteQueue,
  type Logger,
  type Reconciler,
} from './controller-kit';
import { routeEvents } from './controllers/event-routing';
import { dumpStateServer, pprofServer, startDebugServer, type StateSources } from './debug';
import { MigrationReconciler } from './controllers/migration-reconciler';
import { RunnerSecrets } from './controllers/runner-secrets';
import { VirtualMachineReconciler } from './controllers/virtual-machine-reconciler';
import {
  createInformers,
  informersSynced,
  startInformers,
  startOnDemand,
  stopInformers,
  type OperatorInformers,
} from './informers';
import { IpamLoader } from './ipam';
import { MigrationTlsIssuer } from './migration-tls';
import { MIGRATION_RESOURCE, VM_RESOURCE } from './neonvm-resources';
import type { RunnerPodConfig } from './pod';
import { httpRunnerConnector, nodeHttpFetch, type RunnerConnector } from './runner-client';
import { CERTIFICATE_REQUESTS, TlsProvisioner, TlsReconciler, type CertificateRequest } from './tls';
import { serveWebhooks, type WebhookOptions, type WebhookServing } from './webhooks';

export type { WebhookOptions } from './webhooks';

export interface OperatorOptions {
  /**
   * The API server: a connection (the process, `loadKubeConnection`), or client-node's KubeConfig
   * (in-process callers: npm start, tests).
   */
  readonly kubeConfig: KubeConfig | KubeConnection;
  /** Namespace of the operator: Lease, webhook certificate Secret. */
  readonly namespace: string;
  readonly identity: string;
  readonly runnerPod: RunnerPodConfig;
  readonly concurrency: number;
  readonly leaderElection?: {
    readonly leaseName: string;
    readonly leaseDurationMs: number;
    readonly renewDeadlineMs: number;
    readonly retryPeriodMs: number;
  };
  readonly metricsBind?: { host: string; port: number };
  readonly probeBind?: { host: string; port: number };
  /** Profiles (`/debug/pprof/`) and the dump-state JSON; loopback addresses (see debug/). */
  readonly pprofBind?: { host: string; port: number };
  readonly dumpStateBind?: { host: string; port: number };
  /** Client-side limit of API requests (`--k8s-client-qps` / `--k8s-client-burst`); none when unset. */
  readonly requestLimit?: RequestRateLimit;
  /** Failure tracking: `--failure-pending-period` (default 1 min), `--failing-refresh-interval` (1 min). */
  readonly failurePendingPeriodMs?: number;
  readonly failingRefreshIntervalMs?: number;
  readonly forceRetryNotRetried?: boolean;
  readonly webhook?: WebhookOptions;
  /** `namespace/name` of the NetworkAttachmentDefinition holding the overlay IPAM config. */
  readonly ipamNad?: { namespace: string; name: string };
  readonly resyncMs?: number;
  readonly runners?: RunnerConnector;
  readonly clock?: Clock;
  readonly log: Logger;
  /** Called when leadership is lost: the process should exit (controller-runtime behaviour). */
  readonly onFatal?: (reason: string) => void;
}

export class Operator {
  readonly metrics = new OperatorMetrics({ defaultMetrics: true });
  /** Ports actually bound (tests bind port 0). */
  readonly ports: {
    metrics?: number;
    probes?: number;
    webhook?: number;
    pprof?: number;
    dumpState?: number;
  } = {};
  private readonly clock: Clock;
  private readonly requestBucket: TokenBucket | undefined;
  private readonly failingReporter: FailingReporter;
  /**
   * Every API request and watch: counted, timed, and through the request rate limit when there is one.
   * Not client-node's clients: loading them cost the operator ~65 MiB RSS (kube/kube-connection.ts).
   */
  private readonly kube: KubeClient;
  private readonly custom: CustomObjectsClient;
  private readonly events: KubeEventRecorder;
  private readonly informers: OperatorInformers;
  private readonly controllers: readonly Controller[];
  /** The VM controller's handed-off writes (status, finalizer, pod metadata). */
  private readonly vmWrites: WriteQueue;
  private readonly servers: Array<{ close(): Promise<void> }> = [];
  private webhooks: WebhookServing | undefined;
  private elector: LeaderElector | undefined;
  private controllersStarted = false;
  private stopping = false;

  constructor(private readonly o: OperatorOptions) {
    const clock = (this.clock = o.clock ?? systemClock);
    const bucket = (this.requestBucket = o.requestLimit && new TokenBucket(o.requestLimit, clock));
    const connection =
      'getCurrentCluster' in o.kubeConfig ? connectionFromKubeConfig(o.kubeConfig) : o.kubeConfig;
    const kube = (this.kube = new KubeClient(connection, {
      ...(bucket ? { beforeRequest: () => bucket.acquire() } : {}),
      onRequest: (verb, url) => this.metrics.kubeRequests.inc({ verb, resource: requestResource(url) }),
      onResponse: (verb, url, seconds) =>
        this.metrics.kubeRequestDuration.observe({ verb, resource: requestResource(url) }, seconds),
    }));
    const core = coreApi(kube);
    this.custom = customObjectsApi(kube);
    const vms = new CustomResourceClient<VirtualMachine>(this.custom, VM_RESOURCE);
    const migrations = new CustomResourceClient<VirtualMachineMigration>(this.custom, MIGRATION_RESOURCE);
    const certificateRequests = new CustomResourceClient<CertificateRequest>(
      this.custom,
      CERTIFICATE_REQUESTS,
    );
    const informers = (this.informers = createInformers({
      watcher: kube,
      core,
      vms,
      migrations,
      certificateRequests,
      clock,
      log: o.log,
      resyncMs: o.resyncMs,
      onWatch: (path) => this.metrics.kubeRequests.inc({ verb: 'WATCH', resource: requestResource(path) }),
    }));
    const events = (this.events = new KubeEventRecorder(core, 'neonvm-controller', clock, o.log));
    const shared = {
      core,
      runners:
        o.runners ??
        httpRunnerConnector({
          fetch: (url, init) => {
            this.metrics.runnerRequests.inc({ path: new URL(url).pathname });
            return nodeHttpFetch(url, init);
          },
        }),
      secrets: new RunnerSecrets(core, new MigrationTlsIssuer(core, o.namespace, clock)),
      events,
      metrics: this.metrics,
      config: o.runnerPod,
      clock,
      vmInformer: informers.vms,
      migrationInformer: informers.migrations,
      podInformer: informers.pods,
    };
    const controller = (name: string, reconciler: Reconciler, queue?: WorkQueue) =>
      new Controller({
        name,
        reconciler,
        workers: o.concurrency,
        metrics: this.metrics,
        failurePendingPeriodMs: o.failurePendingPeriodMs,
        clock,
        log: o.log,
        ...(queue ? { queue } : {}),
      });
    const vmQueue = new WorkQueue({ clock });
    const vmWrites = (this.vmWrites = new WriteQueue({
      // As many writes at once as the controller has workers: the API server sees the concurrency it saw
      // when the workers awaited their writes. 16 at 8 workers raised its own p99 in a 1,000-VM creation
      // burst (status PATCH 728 → 1,652 ms) without making anything faster.
      maxInFlight: Math.max(1, o.concurrency),
      clock,
      observe: (sample) => {
        const controller = 'virtualmachine';
        if ('waitedMs' in sample) this.metrics.writeQueueWait.observe({ controller }, sample.waitedMs / 1000);
        else
          this.metrics.writeDuration.observe(
            { controller, outcome: sample.ok ? 'success' : 'failure' },
            sample.tookMs / 1000,
          );
      },
    }));
    const vm = controller(
      'virtualmachine',
      new VirtualMachineReconciler({
        ...shared,
        vms,
        ipam: new IpamLoader({
          source: o.ipamNad && { custom: this.custom, nad: o.ipamNad, metrics: this.metrics },
          clock,
        }),
        enqueue: (key) => vmQueue.add(key),
        writes: vmWrites,
      }),
      vmQueue,
    );
    const migration = controller(
      'virtualmachinemigration',
      new MigrationReconciler({ ...shared, migrations }),
    );
    const tls = controller(
      'tls',
      new TlsReconciler({
        vms,
        vmInformer: informers.vms,
        provisioner: new TlsProvisioner({
          core,
          requests: certificateRequests,
          requestCache: informers.certificateRequests,
        }),
        requestInformer: informers.certificateRequests,
        watchRequests: () => {
          if (!this.stopping) startOnDemand(informers.certificateRequests);
        },
        events,
        clock,
      }),
    );
    this.controllers = [vm, migration, tls];
    routeEvents(informers, { vm, migration, tls });
    this.metrics.failingSource = () => this.controllers.flatMap((c) => c.failingCounts());
    this.failingReporter = new FailingReporter({
      controllers: this.controllers,
      intervalMs: o.failingRefreshIntervalMs ?? 60_000,
      forceRetryNotRetried: o.forceRetryNotRetried,
      clock,
      log: o.log,
    });
    this.metrics.vmPhaseSource = () => {
      const counts: Record<string, number> = {};
      for (const v of informers.vms.list()) {
        const phase = v.status?.phase || 'Unknown';
        counts[phase] = (counts[phase] ?? 0) + 1;
      }
      return counts;
    };
  }

  /** Starts servers and webhooks, then campaigns for leadership (or leads at once without election). */
  async start(): Promise<void> {
    const { o } = this;
    if (o.probeBind) {
      const probes = new HealthServer({
        registry: this.metrics.registry,
        readiness: {
          webhook: () => !o.webhook || this.webhooks !== undefined,
          informers: () => !this.controllersStarted || informersSynced(this.informers),
        },
      });
      this.ports.probes = await probes.listen(o.probeBind.port, o.probeBind.host);
      this.servers.push(probes);
    }
    if (o.metricsBind) {
      const metrics = new HealthServer({ registry: this.metrics.registry });
      this.ports.metrics = await metrics.listen(o.metricsBind.port, o.metricsBind.host);
      this.servers.push(metrics);
    }
    if (o.pprofBind) {
      const pprof = await startDebugServer(pprofServer(), o.pprofBind);
      this.ports.pprof = pprof.port;
      this.servers.push(pprof);
    }
    if (o.dumpStateBind) {
      const dump = await startDebugServer(dumpStateServer(this.stateSources()), o.dumpStateBind);
      this.ports.dumpState = dump.port;
      this.servers.push(dump);
    }
    if (o.webhook) {
      this.webhooks = await serveWebhooks(o.webhook, {
        core: coreApi(this.kube),
        admission: admissionApi(this.kube),
        namespace: o.namespace,
        events: this.events,
        clock: this.clock,
        log: o.log,
      });
      this.ports.webhook = this.webhooks.port;
    }
    if (!o.leaderElection) return this.startControllers();
    const le = o.leaderElection;
    this.elector = new LeaderElector({
      identity: o.identity,
      store: new KubeLeaseStore(coordinationApi(this.kube), o.namespace, le.leaseName),
      leaseDurationMs: le.leaseDurationMs,
      renewDeadlineMs: le.renewDeadlineMs,
      retryPeriodMs: le.retryPeriodMs,
      clock: this.clock,
      log: o.log,
      onStartedLeading: () => {
        this.metrics.isLeader.set(1);
        this.startControllers().catch((err: unknown) =>
          this.fatal(`controllers failed to start: ${String(err)}`),
        );
      },
      onStoppedLeading: () => {
        this.metrics.isLeader.set(0);
        // No new reconciles or writes from this moment: a standby may lead soon, so handed-off writes
        // not yet sent are dropped (the next leader decides them again from what is stored). (The
        // process exits in onFatal; in-process operators — npm start, tests — stop here.)
        void this.vmWrites.abandon();
        for (const c of this.controllers) void c.stop();
        this.fatal('leader election lost');
      },
    });
    this.elector.start();
  }

  get isLeader(): boolean {
    return this.elector ? this.elector.isLeader : this.controllersStarted;
  }

  /**
   * Graceful stop: no new reconciles, wait for running ones, release the lease, close servers.
   * `releaseLease: false` leaves the lease to expire, like a crashed process (tests).
   */
  async stop(options: { releaseLease?: boolean } = {}): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.failingReporter.stop();
    // Controllers wait for the writes their reconciles handed off; then nothing is left to flush.
    await Promise.all(this.controllers.map((c) => c.stop()));
    await this.vmWrites.flush();
    await stopInformers(this.informers);
    await this.elector?.stop(options.releaseLease ?? true);
    await this.webhooks?.stop();
    await Promise.all(this.servers.map((s) => s.close()));
    await this.kube.close();
  }

  /** What the dump-state endpoint reads (all in memory). */
  private stateSources(): StateSources {
    return {
      identity: this.o.identity,
      isLeader: () => this.isLeader,
      controllers: this.controllers,
      informers: { ...this.informers },
      ...(this.requestBucket && this.o.requestLimit
        ? { requestLimit: { ...this.o.requestLimit, bucket: this.requestBucket } }
        : {}),
      now: () => this.clock.now(),
    };
  }

  private fatal(reason: string): void {
    this.o.log.error({ reason }, 'operator cannot continue');
    this.o.onFatal?.(reason);
  }

  private async startControllers(): Promise<void> {
    if (this.controllersStarted || this.stopping) return;
    this.controllersStarted = true;
    await startInformers(this.informers);
    for (const c of this.controllers) c.start();
    this.failingReporter.start();
    this.o.log.info({ concurrency: this.o.concurrency }, 'controllers started');
  }
}
