/**
 * The composition root: builds clients, informers, both controllers, webhooks, leader election and
 * the probe/metrics servers, and owns their lifecycle. Every replica serves webhooks; only the leader
 * runs informers and controllers.
 */
import {
  AdmissionregistrationV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type V1Pod,
} from '@kubernetes/client-node';
import {
  GROUP,
  IP_POOL,
  LABEL_VM_NAME,
  VERSION,
  VIRTUAL_MACHINE,
  VIRTUAL_MACHINE_MIGRATION,
  type IpPool,
  type NetworkAttachmentDefinition,
  type VirtualMachine,
  type VirtualMachineMigration,
} from '../crds';
import {
  Controller,
  CustomResourceClient,
  HealthServer,
  Informer,
  KubeEventRecorder,
  KubeLeaseStore,
  LeaderElector,
  OperatorMetrics,
  objectKey,
  systemClock,
  type Clock,
  type KubeObject,
  type Logger,
} from './controller-kit';
import { MigrationReconciler } from './controllers/migration-reconciler';
import { RunnerSecrets } from './controllers/runner-secrets';
import { VirtualMachineReconciler } from './controllers/virtual-machine-reconciler';
import { Ipam, parseIpamConfig } from './ipam';
import type { RunnerPodConfig } from './pod';
import { httpRunnerConnector, type RunnerConnector } from './runner-client';
import {
  CertificateManager,
  WEBHOOKS,
  WebhookServer,
  mutateVirtualMachine,
  mutateVirtualMachineMigration,
  mutatingWebhookConfiguration,
  readCertificateDir,
  validateVirtualMachineHandler,
  validateVirtualMachineMigrationHandler,
  validatingWebhookConfiguration,
  type AdmissionRequest,
  type ManagedCertificate,
} from './webhooks';
import { CERTIFICATE_REQUESTS, TlsProvisioner } from './tls';

export interface WebhookOptions {
  readonly port: number;
  readonly host?: string;
  /** Use cert-manager's files (tls.crt, tls.key, ca.crt) from this directory instead of self-managed ones. */
  readonly certDir?: string;
  /** Self-managed: Secret holding the certificate (in `namespace`). */
  readonly secretName: string;
  /** DNS names / IPs for the self-managed serving certificate. */
  readonly dnsNames: readonly string[];
  readonly ips: readonly string[];
  /** Local runs: create the webhook configurations with `https://<urlHost>:<port>` URLs. */
  readonly urlHost?: string;
  readonly skipUpdateValidationFor?: ReadonlySet<string>;
}

export interface OperatorOptions {
  readonly kubeConfig: KubeConfig;
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
  readonly vmInformer: Informer<VirtualMachine>;
  readonly migrationInformer: Informer<VirtualMachineMigration>;
  readonly podInformer: Informer<V1Pod>;
  readonly vmController: Controller;
  readonly migrationController: Controller;
  private readonly clock: Clock;
  private readonly core: CoreV1Api;
  private readonly custom: CustomObjectsApi;
  private readonly servers: Array<{ close(): Promise<void> }> = [];
  private elector: LeaderElector | undefined;
  private certificates: CertificateManager | undefined;
  private ipam: Ipam | undefined;
  private webhookServer: WebhookServer | undefined;
  private readonly events: KubeEventRecorder;
  private controllersStarted = false;
  private webhookReady = false;
  private stopping = false;
  /** Ports actually bound (tests bind port 0). */
  readonly ports: { metrics?: number; probes?: number; webhook?: number } = {};

  constructor(private readonly o: OperatorOptions) {
    this.clock = o.clock ?? systemClock;
    this.core = o.kubeConfig.makeApiClient(CoreV1Api);
    this.custom = o.kubeConfig.makeApiClient(CustomObjectsApi);
    const id = (plural: string) => ({ group: GROUP, version: VERSION, plural });
    const vms = new CustomResourceClient<VirtualMachine>(this.custom, id(VIRTUAL_MACHINE.plural));
    const migrations = new CustomResourceClient<VirtualMachineMigration>(
      this.custom,
      id(VIRTUAL_MACHINE_MIGRATION.plural),
    );
    const informerBase = {
      kubeConfig: o.kubeConfig,
      clock: this.clock,
      log: o.log,
      resyncMs: o.resyncMs ?? 10 * 60_000,
    };
    this.vmInformer = new Informer<VirtualMachine>({
      ...informerBase,
      name: 'virtualmachines',
      path: vms.path(),
      list: () => vms.list(),
    });
    this.migrationInformer = new Informer<VirtualMachineMigration>({
      ...informerBase,
      name: 'virtualmachinemigrations',
      path: migrations.path(),
      list: () => migrations.list(),
    });
    this.podInformer = new Informer<V1Pod>({
      ...informerBase,
      name: 'runner-pods',
      path: '/api/v1/pods',
      labelSelector: LABEL_VM_NAME,
      list: () => this.core.listPodForAllNamespaces({ labelSelector: LABEL_VM_NAME }),
    });

    const runners = o.runners ?? httpRunnerConnector();
    const secrets = new RunnerSecrets(this.core);
    const events = new KubeEventRecorder(this.core, 'neonvm-controller', this.clock, o.log);
    this.events = events;
    const common = {
      core: this.core,
      runners,
      secrets,
      events,
      metrics: this.metrics,
      config: o.runnerPod,
      clock: this.clock,
    };
    this.vmController = new Controller({
      name: 'virtualmachine',
      workers: o.concurrency,
      metrics: this.metrics,
      clock: this.clock,
      log: o.log,
      reconciler: new VirtualMachineReconciler({
        ...common,
        vms,
        vmInformer: this.vmInformer,
        podInformer: this.podInformer,
        migrationInformer: this.migrationInformer,
        ipam: () => this.ipam,
        tls: new TlsProvisioner(this.core, new CustomResourceClient(this.custom, CERTIFICATE_REQUESTS)),
      }),
    });
    this.migrationController = new Controller({
      name: 'virtualmachinemigration',
      workers: o.concurrency,
      metrics: this.metrics,
      clock: this.clock,
      log: o.log,
      reconciler: new MigrationReconciler({
        ...common,
        vms,
        migrations,
        vmInformer: this.vmInformer,
        migrationInformer: this.migrationInformer,
        podInformer: this.podInformer,
      }),
    });
    this.wireEvents();
    this.metrics.vmPhaseSource = () => {
      const counts: Record<string, number> = {};
      for (const vm of this.vmInformer.list()) {
        const phase = vm.status?.phase || 'Unknown';
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
          webhook: () => !o.webhook || this.webhookReady,
          informers: () =>
            !this.controllersStarted || (this.vmInformer.hasSynced() && this.podInformer.hasSynced()),
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
    if (o.webhook) await this.startWebhooks(o.webhook);
    if (o.leaderElection) {
      const le = o.leaderElection;
      this.elector = new LeaderElector({
        identity: o.identity,
        store: new KubeLeaseStore(o.kubeConfig.makeApiClient(CoordinationV1Api), o.namespace, le.leaseName),
        leaseDurationMs: le.leaseDurationMs,
        renewDeadlineMs: le.renewDeadlineMs,
        retryPeriodMs: le.retryPeriodMs,
        clock: this.clock,
        log: o.log,
        onStartedLeading: () => {
          this.metrics.isLeader.set(1);
          void this.startControllers().catch((err: unknown) =>
            this.fatal(`controllers failed to start: ${String(err)}`),
          );
        },
        onStoppedLeading: () => {
          this.metrics.isLeader.set(0);
          this.fatal('leader election lost');
        },
      });
      this.elector.start();
    } else {
      await this.startControllers();
    }
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
    await Promise.all([this.vmController.stop(), this.migrationController.stop()]);
    for (const informer of [this.vmInformer, this.migrationInformer, this.podInformer]) informer.stop();
    await this.elector?.stop(options.releaseLease ?? true);
    this.certificates?.stop();
    await Promise.all(this.servers.map((s) => s.close()));
  }

  private fatal(reason: string): void {
    this.o.log.error({ reason }, 'operator cannot continue');
    if (this.o.onFatal) this.o.onFatal(reason);
  }

  private async startControllers(): Promise<void> {
    if (this.controllersStarted || this.stopping) return;
    this.controllersStarted = true;
    const ipam = await this.loadIpam();
    this.ipam = ipam;
    await Promise.all([this.vmInformer.start(), this.migrationInformer.start(), this.podInformer.start()]);
    this.vmController.start();
    this.migrationController.start();
    this.o.log.info({ concurrency: this.o.concurrency }, 'controllers started');
  }

  private async loadIpam(): Promise<Ipam | undefined> {
    const nad = this.o.ipamNad;
    if (!nad) return undefined;
    let obj: NetworkAttachmentDefinition;
    try {
      obj = (await this.custom.getNamespacedCustomObject({
        group: 'k8s.cni.cncf.io',
        version: 'v1',
        plural: 'network-attachment-definitions',
        namespace: nad.namespace,
        name: nad.name,
      })) as NetworkAttachmentDefinition;
    } catch (err) {
      const code = (err as { code?: number }).code;
      const hint =
        code === 404
          ? ' (not found: is Multus installed, with its NetworkAttachmentDefinition CRD, and the NAD applied?)'
          : '';
      throw new Error(
        `cannot read the IPAM NetworkAttachmentDefinition ${nad.namespace}/${nad.name} named by NAD_IPAM_NAMESPACE/NAD_IPAM_NAME${hint}: ${(err as Error).message.split('\n')[0]}`,
      );
    }
    const config = parseIpamConfig(obj.spec?.config ?? '{}');
    const pools = new CustomResourceClient<IpPool>(this.custom, {
      group: GROUP,
      version: VERSION,
      plural: IP_POOL.plural,
    });
    return new Ipam({ pools, namespace: nad.namespace, config, metrics: this.metrics });
  }

  private wireEvents(): void {
    const vmKey = (namespace: string | undefined, name: string | undefined) =>
      `${namespace ?? ''}/${name ?? ''}`;
    const migrationsOf = (namespace: string | undefined, vmName: string | undefined) =>
      this.migrationInformer.list(namespace).filter((m) => m.spec.vmName === vmName);
    this.vmInformer.on((vm) => {
      this.vmController.enqueue(objectKey(vm));
      for (const m of migrationsOf(vm.metadata?.namespace, vm.metadata?.name))
        this.migrationController.enqueue(objectKey(m));
    });
    this.migrationInformer.on((m) => {
      this.migrationController.enqueue(objectKey(m));
      this.vmController.enqueue(vmKey(m.metadata?.namespace, m.spec.vmName));
    });
    this.podInformer.on((pod) => {
      const vmName = pod.metadata?.labels?.[LABEL_VM_NAME];
      if (vmName) this.vmController.enqueue(vmKey(pod.metadata?.namespace, vmName));
      for (const m of migrationsOf(pod.metadata?.namespace, vmName))
        this.migrationController.enqueue(objectKey(m));
    });
  }

  private async startWebhooks(w: WebhookOptions): Promise<void> {
    const { o } = this;
    const validation = {
      skipUpdateValidationFor: w.skipUpdateValidationFor,
      onSkippedValidation: (request: AdmissionRequest) =>
        this.events.record(
          request.object as KubeObject,
          'Warning',
          'SkippedValidation',
          "Ignoring failed webhook validation because of controller's '--skip-update-validation-for' flag",
        ),
    };
    const routes = {
      [WEBHOOKS.mutateVirtualMachine.path]: mutateVirtualMachine,
      [WEBHOOKS.mutateMigration.path]: mutateVirtualMachineMigration,
      [WEBHOOKS.validateVirtualMachine.path]: validateVirtualMachineHandler(validation),
      [WEBHOOKS.validateMigration.path]: validateVirtualMachineMigrationHandler(validation),
    };
    const admission = o.kubeConfig.makeApiClient(AdmissionregistrationV1Api);
    let cert: ManagedCertificate;
    if (w.certDir) {
      cert = await readCertificateDir(w.certDir);
    } else {
      this.certificates = new CertificateManager({
        core: this.core,
        admission,
        namespace: o.namespace,
        secretName: w.secretName,
        request: { dnsNames: w.dnsNames, ips: w.ips, validDays: 365 },
        clock: this.clock,
        log: o.log,
        onRotated: (c) => this.webhookServer?.setCertificate(c),
      });
      cert = await this.certificates.start();
    }
    const server = new WebhookServer(routes, cert, o.log);
    this.webhookServer = server;
    this.ports.webhook = await server.listen(w.port, w.host);
    this.servers.push(server);
    if (w.urlHost)
      await this.ensureWebhookConfigurations(admission, { ...w, port: this.ports.webhook }, cert.caBundle);
    this.webhookReady = true;
    o.log.info({ port: this.ports.webhook }, 'admission webhooks serving');
  }

  /** Local runs: (re)creates our webhook configurations pointing at `https://<urlHost>:<port>`. */
  private async ensureWebhookConfigurations(
    admission: AdmissionregistrationV1Api,
    w: WebhookOptions,
    caBundle: string,
  ): Promise<void> {
    const target = { url: `https://${w.urlHost}:${w.port}` };
    const mutating = mutatingWebhookConfiguration({ target, caBundle });
    const validating = validatingWebhookConfiguration({ target, caBundle });
    const apply = async (
      read: () => Promise<{ metadata?: { resourceVersion?: string } }>,
      create: () => Promise<unknown>,
      replace: (rv: string | undefined) => Promise<unknown>,
    ) => {
      try {
        const current = await read();
        await replace(current.metadata?.resourceVersion);
      } catch (err) {
        if ((err as { code?: number }).code !== 404) throw err;
        await create();
      }
    };
    const name = (x: { metadata?: { name?: string } }) => x.metadata?.name ?? '';
    await apply(
      () => admission.readMutatingWebhookConfiguration({ name: name(mutating) }),
      () => admission.createMutatingWebhookConfiguration({ body: mutating }),
      (rv) =>
        admission.replaceMutatingWebhookConfiguration({
          name: name(mutating),
          body: { ...mutating, metadata: { ...mutating.metadata, resourceVersion: rv } },
        }),
    );
    await apply(
      () => admission.readValidatingWebhookConfiguration({ name: name(validating) }),
      () => admission.createValidatingWebhookConfiguration({ body: validating }),
      (rv) =>
        admission.replaceValidatingWebhookConfiguration({
          name: name(validating),
          body: { ...validating, metadata: { ...validating.metadata, resourceVersion: rv } },
        }),
    );
  }
}
