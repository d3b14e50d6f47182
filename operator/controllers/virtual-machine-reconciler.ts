/**
 * VirtualMachine controller: observes (informer caches, and what `RunnerStates` knows of the runner),
 * decides (`decideVmAction`), acts (pods, secrets, IPAM; runner calls start in the background) and
 * writes status through the status subresource, in that order.
 * It is the one writer of VirtualMachine.status, except the `CertificateReady` condition, which the TLS
 * controller owns and this one reads (with the VM's migrations, whose status it follows).
 */
import type { V1Pod } from '@kubernetes/client-node';
import {
  FINALIZER,
  defaultVirtualMachine,
  type VirtualMachine,
  type VirtualMachineMigration,
  type VirtualMachineStatus,
} from '../../crds';
import {
  createMergePatch,
  isConflict,
  objectKey,
  type CoreApi,
  type CustomResourceClient,
  type Informer,
  type ObjectRef,
} from '../../kube';
import {
  CONDITION_DEGRADED,
  Reasons,
  addFinalizerPatch,
  patchObject,
  removeFinalizerPatch,
  setCondition,
  writeStatus,
  type Clock,
  type EventRecorder,
  type Logger,
  type OperatorMetrics,
  type ReconcileResult,
  type Reconciler,
  type WriteQueue,
} from '../controller-kit';
import { IpamUnavailableError, type IpamLoader } from '../ipam';
import {
  buildRunnerPod,
  runnerPodAnnotations,
  runnerPodLabels,
  runnerContainerRunning,
  runnerPodPhase,
  runnerStopped,
  type RunnerPodConfig,
} from '../pod';
import type { RunnerConnector } from '../runner-client';
import { tlsReadiness } from '../tls';
import { RUNNER_RETRY_MS, decideVmAction, type VmAction } from '../vm/decide-vm-action';
import { generatePodName, migrationTlsSecretName, runnerTokenSecretName } from '../vm/names';
import { sshEnabled, vmRunnerPort } from '../vm/vm-spec';
import { PodOps } from './pod-ops';
import { RunnerSecrets, type PodSecretsWanted } from './runner-secrets';
import { RunnerStates } from './runner-states';

export interface VirtualMachineReconcilerDeps {
  readonly vms: CustomResourceClient<VirtualMachine>;
  readonly vmInformer: Informer<VirtualMachine>;
  readonly podInformer: Informer<V1Pod>;
  readonly migrationInformer: Informer<VirtualMachineMigration>;
  readonly core: CoreApi;
  readonly runners: RunnerConnector;
  readonly secrets: RunnerSecrets;
  /** The overlay IPAM (loaded on first use; unavailable degrades only VMs with spec.extraNetwork). */
  readonly ipam: Pick<IpamLoader, 'get'>;
  readonly events: EventRecorder;
  readonly metrics?: OperatorMetrics;
  readonly config: RunnerPodConfig;
  readonly clock: Clock;
  /** Queues a VM for reconciliation (when a runner call made in the background ends). */
  readonly enqueue: (key: string) => void;
  /** Where the VM's own writes and its pod's metadata patch go (see `ReconcileResult.writes`). */
  readonly writes: WriteQueue;
}

export class VirtualMachineReconciler implements Reconciler {
  private readonly pods: PodOps;
  private readonly runnerStates: RunnerStates;

  constructor(private readonly deps: VirtualMachineReconcilerDeps) {
    this.pods = new PodOps(deps.core, deps.podInformer);
    this.runnerStates = new RunnerStates({
      enqueue: deps.enqueue,
      clock: deps.clock,
      retryMs: RUNNER_RETRY_MS,
    });
  }

  async reconcile(ref: ObjectRef, log: Logger): Promise<ReconcileResult> {
    const key = objectKey({ metadata: ref });
    const cached = this.deps.vmInformer.get(ref.namespace, ref.name);
    if (!cached) {
      this.runnerStates.forget(key);
      return {};
    }
    const vm = defaultVirtualMachine(structuredClone(cached));
    const podName = vm.status?.podName;
    const pod = podName ? this.deps.podInformer.get(ref.namespace, podName) : undefined;
    const now = this.deps.clock.now();
    const phase = vm.status?.phase;
    // Known runner state, or undefined while the runner is asked (its answer enqueues the VM again).
    // A Running VM's runner is asked also while its pod is not Ready (once per readiness flip): a
    // source that handed its guest over is never Ready again, and must not leave the VM "Running".
    const runnerUp =
      !!pod &&
      (((phase === 'Pending' || phase === 'Running' || phase === 'Scaling') &&
        runnerPodPhase(pod) === 'running') ||
        ((phase === 'Running' || phase === 'Scaling') && runnerContainerRunning(pod)));
    const runner = runnerUp ? this.runnerStates.view(key, pod, () => this.runner(vm, pod)) : undefined;
    // Outside these phases (a migration, a stop) the runner changes without our calls (QEMU's run state
    // after a handover): what we knew is dropped, so it is asked again when it matters.
    if (!runnerUp) this.runnerStates.forget(key);

    const migrations = this.deps.migrationInformer
      .list(ref.namespace)
      .filter((m) => m.spec.vmName === ref.name);
    const decision = decideVmAction({
      vm,
      pod,
      runner,
      migrations,
      migrationTargetAlive: migrations.some((m) => {
        const target = m.status?.targetPodName;
        const targetPod = target ? this.deps.podInformer.get(ref.namespace, target) : undefined;
        return m.status?.sourcePodName === podName && !!targetPod && !runnerStopped(targetPod);
      }),
      newPodName: generatePodName(ref.name),
      defaultCpuScalingMode: this.deps.config.defaultCpuScalingMode,
      ...(vm.spec.tls ? { tls: tlsReadiness(vm.status?.conditions) } : {}),
      now,
    });

    let status = decision.status;
    // Writes of the VM itself (finalizer/default patch, status) and the runner pod's labels/annotations
    // are handed to the write queue: the reconcile returns without awaiting their round trips, and the
    // controller keeps the key held until they landed, so the next reconcile of this VM reads what they
    // stored, as if it had awaited them. The pod's metadata and the VM's status are independent writes
    // of two objects, so they go out together (one round trip, not two in series). The other actions
    // keep their order and are awaited here (the pod is created only after its name was persisted, a
    // round earlier; writes of the VM itself carry its resourceVersion).
    let init: Extract<VmAction, { kind: 'init-vm' }> | undefined;
    let podMetadata = false;
    let createPod: (() => Promise<void>) | undefined;
    try {
      for (const action of decision.actions) {
        if (action.kind === 'sync-pod-metadata') podMetadata = true;
        else if (action.kind === 'init-vm') init = action;
        else if (action.kind === 'create-pod') createPod = this.preparePod(action.podName, vm, status, log);
        else status = await this.execute(action, vm, pod, status);
      }
    } catch (err) {
      await this.reportFailure(cached, err);
      throw err;
    }
    const syncPod = podMetadata ? this.podMetadataSync(vm, pod, status) : undefined;
    const statusChanges = !!createMergePatch(cached.status ?? {}, status);
    const requeue = decision.requeueAfterMs === undefined ? {} : { requeueAfterMs: decision.requeueAfterMs };
    if (!init && !createPod && !syncPod && !statusChanges) return requeue;
    const finalStatus = status;
    const writes = this.deps.writes.submit(key, () =>
      this.write(cached, vm, init, createPod, finalStatus, syncPod, () => {
        if (phase === 'Pending' && finalStatus.phase === 'Running') this.observeTimeToRunning(vm, pod);
      }),
    );
    return { ...requeue, writes };
  }

  /**
   * The handed-off writes of one reconcile, in the queue's slot for this VM: the finalizer/default
   * patch first (the status write then carries its resourceVersion), or the runner pod's creation,
   * then the status and the pod's metadata together. A 409 rejects: the controller decides again
   * from fresh state.
   */
  private async write(
    cached: VirtualMachine,
    vm: VirtualMachine,
    init: Extract<VmAction, { kind: 'init-vm' }> | undefined,
    createPod: (() => Promise<void>) | undefined,
    status: VirtualMachineStatus,
    syncPod: (() => Promise<void>) | undefined,
    onWritten: () => void,
  ): Promise<void> {
    const d = this.deps;
    let base = cached;
    if (init) {
      const finalizer = init.addFinalizer ? addFinalizerPatch(vm, FINALIZER) : {};
      const mode = init.cpuScalingMode ? { spec: { cpuScalingMode: init.cpuScalingMode } } : {};
      base = await patchObject(d.vms, cached, { ...finalizer, ...mode }, d.vmInformer);
    }
    if (createPod) {
      try {
        await createPod();
      } catch (err) {
        await this.reportFailure(cached, err);
        throw err;
      }
    }
    const [synced, written] = await Promise.allSettled([
      syncPod?.(),
      writeStatus(d.vms, base, status, d.vmInformer),
    ]);
    if (synced.status === 'rejected') {
      // As for any failed action: Degraded says why, on top of the status just written (if it was).
      await this.reportFailure(written.status === 'fulfilled' ? written.value : base, synced.reason);
      throw synced.reason;
    }
    if (written.status === 'rejected') throw written.reason;
    onWritten();
  }

  /**
   * The runner pod for `podName` (its name persisted a round earlier), built here; what the write queue
   * sends: its Secrets first — usually made already (prepare-pod-secrets, a round earlier), so no API
   * call — then the pod. The Secrets' names are fixed by the VM's name, so the pod needs no answer.
   */
  private preparePod(
    podName: string,
    vm: VirtualMachine,
    status: VirtualMachineStatus,
    log: Logger,
  ): () => Promise<void> {
    const d = this.deps;
    const name = vm.metadata?.name ?? '';
    const wanted = this.podSecretsWanted(vm);
    const body = buildRunnerPod(
      {
        vm: { ...vm, status },
        podName,
        tokenSecretName: runnerTokenSecretName(name),
        ...(wanted.migrationTls ? { migrationTlsSecretName: migrationTlsSecretName(name) } : {}),
      },
      d.config,
    );
    return async () => {
      await d.secrets.forPod(vm, wanted);
      const created = await this.pods.create(body);
      if (created && !status.restartCount)
        this.observe(d.metrics?.vmCreationToRunnerCreation, vm, created.metadata?.creationTimestamp);
      d.events.record(vm, 'Normal', 'RunnerCreated', `created runner pod ${podName}`);
      log.info({ pod: podName, restartCount: status.restartCount ?? 0 }, 'created runner pod');
    };
  }

  private async execute(
    action: VmAction,
    vm: VirtualMachine,
    pod: V1Pod | undefined,
    status: VirtualMachineStatus,
  ): Promise<VirtualMachineStatus> {
    const { namespace = '', name = '' } = vm.metadata ?? {};
    const d = this.deps;
    switch (action.kind) {
      case 'init-vm':
      case 'sync-pod-metadata':
      case 'create-pod':
        throw new Error(`${action.kind} is a handed-off write, not an action of the reconcile`);
      case 'remove-finalizer':
        await patchObject(d.vms, vm, removeFinalizerPatch(vm, FINALIZER), d.vmInformer);
        d.secrets.forget(vm.metadata?.uid ?? '');
        return status;
      case 'acquire-ip': {
        // Keyed by the VM (and its UID): after a lost status write this returns the same address.
        const lease = await (await d.ipam.get()).acquire(`${namespace}/${name}`, vm.metadata?.uid);
        return { ...status, extraNetIP: lease.ip, extraNetMask: lease.mask };
      }
      case 'release-ip': {
        let ipam;
        try {
          ipam = await d.ipam.get();
        } catch (err) {
          if (!(err instanceof IpamUnavailableError)) throw err;
          // Deleting a VM is never blocked by a missing IPAM configuration.
          d.events.record(
            vm,
            'Warning',
            'IpamReleaseSkipped',
            `overlay address not released: ${err.message}`,
          );
          return status;
        }
        await ipam.release(`${namespace}/${name}`, vm.metadata?.uid);
        return status;
      }
      case 'prepare-pod-secrets':
        d.secrets.prepare(vm, this.podSecretsWanted(vm));
        return status;
      case 'delete-pod':
        await this.pods.delete(namespace, action.podName);
        return status;
      case 'set-cpu':
        if (pod) this.runnerStates.setCpu(objectKey(vm), pod, action.milliCpu, () => this.runner(vm, pod));
        return status;
      case 'set-memory':
        if (pod) this.runnerStates.setMemory(objectKey(vm), pod, action.slots, () => this.runner(vm, pod));
        return status;
      case 'event':
        d.events.record(vm, action.type, action.reason, action.message);
        if (action.reason === 'Restarting') d.metrics?.vmRestarts.inc();
        return status;
    }
  }

  /** The runner pod's label/annotation patch for `status`, or undefined when it has them already. */
  private podMetadataSync(
    vm: VirtualMachine,
    pod: V1Pod | undefined,
    status: VirtualMachineStatus,
  ): (() => Promise<void>) | undefined {
    if (!pod) return undefined;
    const vmNow: VirtualMachine = { ...vm, status };
    return this.pods.metadataSync(pod, {
      labels: runnerPodLabels(vmNow),
      annotations: runnerPodAnnotations(vmNow, this.deps.config.defaultMultusNetwork),
    });
  }

  /**
   * A failed step is retried with back-off; meanwhile the VM says why (upstream #889: status was not
   * written when a reconcile failed). Only the Degraded condition changes: the phase stays truthful.
   */
  private async reportFailure(cached: VirtualMachine, err: unknown): Promise<void> {
    if (isConflict(err)) return; // stale read, not a problem worth reporting: the retry reads fresh state
    const message = err instanceof Error ? err.message : String(err);
    const conditions = setCondition(
      cached.status?.conditions,
      {
        type: CONDITION_DEGRADED,
        status: 'True',
        reason: err instanceof IpamUnavailableError ? Reasons.IpamUnavailable : Reasons.ReconcileError,
        message: message.slice(0, 1000),
      },
      new Date(this.deps.clock.now()),
      cached.metadata?.generation,
    );
    const next: VirtualMachineStatus = { ...(cached.status ?? {}), conditions };
    await writeStatus(this.deps.vms, cached, next, this.deps.vmInformer).catch(() => undefined);
  }

  private podSecretsWanted(vm: VirtualMachine): PodSecretsWanted {
    return { migrationTls: this.deps.config.migrationTls, ssh: sshEnabled(vm) };
  }

  private async runner(vm: VirtualMachine, pod: V1Pod | undefined) {
    const host = pod?.status?.podIP;
    if (!host) throw new Error('runner pod has no IP yet');
    return this.deps.runners({
      host,
      port: vmRunnerPort(vm),
      token: await this.deps.secrets.ensureToken(vm),
    });
  }

  /** Upstream's latency histograms: runner created → Running always, VM created → Running for the first pod. */
  private observeTimeToRunning(vm: VirtualMachine, pod: V1Pod | undefined): void {
    const metrics = this.deps.metrics;
    const now = new Date(this.deps.clock.now());
    if (pod) this.observe(metrics?.runnerCreationToVmRunning, pod, now);
    if (!vm.status?.restartCount) this.observe(metrics?.vmCreationToRunning, vm, now);
  }

  /** Seconds from `from`'s creationTimestamp to `to` (API timestamps: whole seconds, as upstream). */
  private observe(
    histogram: { observe(seconds: number): void } | undefined,
    from: { metadata?: { creationTimestamp?: Date | string } },
    to: Date | string | undefined,
  ): void {
    const start = from.metadata?.creationTimestamp;
    if (!histogram || !start || !to) return;
    const seconds = (new Date(to).getTime() - new Date(start).getTime()) / 1000;
    if (seconds >= 0) histogram.observe(seconds);
  }
}
