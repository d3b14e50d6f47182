/**
 * VirtualMachineMigration controller: the same observe → decide (`decideMigrationAction`) → act →
 * write-status shape as the VM controller. It talks to the source and target runners only through
 * the runner API and writes only the migration's status: the VM controller derives the VM's
 * migration phases from it.
 */
import type { V1NodeSelectorTerm, V1Pod } from '@kubernetes/client-node';
import {
  FINALIZER,
  defaultVirtualMachine,
  defaultVirtualMachineMigration,
  type VirtualMachine,
  type VirtualMachineMigration,
} from '../../crds';
import { RunnerApiError } from '../../runner/api';
import { type CoreApi, type CustomResourceClient, type Informer, type ObjectRef } from '../../kube';
import {
  addFinalizerPatch,
  errorFields,
  patchObject,
  removeFinalizerPatch,
  writeStatus,
  type Clock,
  type EventRecorder,
  type Logger,
  type OperatorMetrics,
  type ReconcileResult,
  type Reconciler,
} from '../controller-kit';
import {
  decideMigrationAction,
  needsRunnerReports,
  type MigrationAction,
  type MigrationObservation,
} from '../migration/decide-migration-action';
import type { QemuObservation } from '../migration/guest-whereabouts';
import { migrationStartRequest } from '../migration/start-request';
import { MIGRATION_TLS_VOLUME, buildRunnerPod, vmOwnerReference, type RunnerPodConfig } from '../pod';
import type { RunnerApi, RunnerConnector } from '../runner-client';
import { generatePodName, runnerTokenSecretName } from '../vm/names';
import { vmRunnerPort } from '../vm/vm-spec';
import { PodOps } from './pod-ops';
import type { RunnerSecrets } from './runner-secrets';

export interface MigrationReconcilerDeps {
  readonly migrations: CustomResourceClient<VirtualMachineMigration>;
  readonly migrationInformer: Informer<VirtualMachineMigration>;
  readonly vmInformer: Informer<VirtualMachine>;
  readonly podInformer: Informer<V1Pod>;
  readonly core: CoreApi;
  readonly runners: RunnerConnector;
  readonly secrets: RunnerSecrets;
  readonly events: EventRecorder;
  readonly metrics?: OperatorMetrics;
  readonly config: RunnerPodConfig;
  readonly clock: Clock;
}

interface Context {
  readonly m: VirtualMachineMigration;
  readonly vm?: VirtualMachine;
  readonly obs: MigrationObservation;
  readonly log: Logger;
}

export class MigrationReconciler implements Reconciler {
  private readonly pods: PodOps;

  constructor(private readonly deps: MigrationReconcilerDeps) {
    this.pods = new PodOps(deps.core, deps.podInformer);
  }

  async reconcile(ref: ObjectRef, log: Logger): Promise<ReconcileResult> {
    const d = this.deps;
    const cached = d.migrationInformer.get(ref.namespace, ref.name);
    if (!cached) return {};
    const m = defaultVirtualMachineMigration(structuredClone(cached));
    const cachedVm = d.vmInformer.get(ref.namespace, m.spec.vmName);
    const vm = cachedVm ? defaultVirtualMachine(structuredClone(cachedVm)) : undefined;
    const status = m.status ?? {};
    const now = d.clock.now();
    const pod = (name: string | undefined) => (name ? d.podInformer.get(ref.namespace, name) : undefined);
    const targetPod = pod(status.targetPodName);
    const sourcePod = pod(status.sourcePodName);
    // Where the guest is decides everything that could delete a pod: ask both runners — the target
    // first. A target that runs the guest keeps running, so a source seen running *after* it really
    // runs a second copy; asked the other way round, a source seen running just before the switch-over
    // and a target seen running just after it would look like two copies. The pods were read from the
    // cache before both: an end seen gone was gone before its peer answered.
    let source: QemuObservation | undefined;
    let target: QemuObservation | undefined;
    if (vm && needsRunnerReports(m, vm) && targetPod) {
      target = await this.observeQemu(vm, targetPod);
      source = await this.observeQemu(vm, sourcePod);
    }

    const obs: MigrationObservation = {
      migration: m,
      vm,
      vmMigrations: d.migrationInformer.list(ref.namespace).filter((x) => x.spec.vmName === m.spec.vmName),
      targetPod,
      sourcePod,
      source,
      target,
      newTargetPodName: generatePodName(m.spec.vmName),
      now,
    };
    const decision = decideMigrationAction(obs);
    const ctx: Context = { m, vm, obs, log };
    for (const action of decision.actions) await this.execute(action, ctx, decision.status.targetPodIP);

    await writeStatus(d.migrations, cached, decision.status, d.migrationInformer);
    if (decision.outcome) {
      d.metrics?.migrationOutcomes.inc({ outcome: decision.outcome.result, reason: decision.outcome.reason });
      log.info({ ...decision.outcome, outcome: decision.outcome.result }, 'migration finished');
    }
    return decision.requeueAfterMs === undefined ? {} : { requeueAfterMs: decision.requeueAfterMs };
  }

  private async execute(
    action: MigrationAction,
    ctx: Context,
    targetPodIP: string | undefined,
  ): Promise<void> {
    const d = this.deps;
    const { m, vm, obs } = ctx;
    const namespace = m.metadata?.namespace ?? '';
    switch (action.kind) {
      case 'add-finalizer':
        await patchObject(d.migrations, m, addFinalizerPatch(m, FINALIZER), d.migrationInformer);
        return;
      case 'remove-finalizer':
        await patchObject(d.migrations, m, removeFinalizerPatch(m, FINALIZER), d.migrationInformer);
        return;
      case 'set-owner': {
        if (!vm) return;
        const others = (m.metadata?.ownerReferences ?? [])
          .filter((r) => r.uid !== vm.metadata?.uid)
          .map((r) => ({ ...r, controller: false }));
        await patchObject(
          d.migrations,
          m,
          { metadata: { ownerReferences: [...others, vmOwnerReference(vm, true)] } },
          d.migrationInformer,
        );
        return;
      }
      case 'create-target-pod': {
        if (!vm) return;
        await d.secrets.ensureToken(vm);
        // The target QEMU must start with every vCPU the source has plugged — scale-down keeps vCPUs
        // plugged (offline in the guest) — or the device state in the stream does not match.
        if (!obs.sourcePod) throw new Error('migration target without a source pod');
        const plugged = (await (await this.runner(vm, obs.sourcePod)).status()).cpus.plugged;
        // Both ends must agree: TLS exactly when the source pod has the credentials.
        const migrationTlsSecretName = await d.secrets.ensureMigrationTls(
          vm,
          !!obs.sourcePod.spec?.volumes?.some((v) => v.name === MIGRATION_TLS_VOLUME),
        );
        const pod = buildRunnerPod(
          {
            vm,
            status: { ...(vm.status ?? {}), cpus: plugged },
            podName: m.status?.targetPodName ?? '',
            tokenSecretName: runnerTokenSecretName(vm.metadata?.name ?? ''),
            ...(migrationTlsSecretName ? { migrationTlsSecretName } : {}),
            migrationTarget: {
              migrationName: m.metadata?.name ?? '',
              migrationUid: m.metadata?.uid ?? '',
              preventMigrationToSameHost: m.spec.preventMigrationToSameHost ?? true,
              nodeSelector: m.spec.nodeSelector,
              nodeSelectorTerms: m.spec.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution
                ?.nodeSelectorTerms as V1NodeSelectorTerm[] | undefined,
            },
          },
          d.config,
        );
        await this.pods.create(pod);
        ctx.log.info({ targetPod: pod.metadata?.name }, 'created migration target pod');
        return;
      }
      case 'start-migration': {
        if (!vm || !obs.sourcePod || !targetPodIP)
          throw new Error('migration start without source pod or target IP');
        const source = await this.runner(vm, obs.sourcePod);
        try {
          await source.startMigration(migrationStartRequest(m, targetPodIP, obs.target));
        } catch (err) {
          // 409 after a lost status write: the migration we started earlier is already running.
          if (!(
            err instanceof RunnerApiError &&
            err.status === 409 &&
            isActive((await source.migration()).status)
          ))
            throw err;
        }
        return;
      }
      case 'cancel-migration':
        if (vm && obs.sourcePod) {
          await this.runner(vm, obs.sourcePod)
            .then((r) => r.cancelMigration())
            .catch((err: unknown) =>
              ctx.log.warn({ ...errorFields(err) }, 'could not cancel the migration on the source'),
            );
        }
        return;
      case 'adopt-target-pod':
        if (vm && obs.targetPod) await this.pods.setOwners(obs.targetPod, [vmOwnerReference(vm, true)]);
        return;
      case 'delete-pod':
        await this.pods.delete(namespace, action.podName);
        return;
      case 'event':
        d.events.record(m, action.type, action.reason, action.message);
        return;
    }
  }

  /** `GET /qemu` of a running pod's runner (bounded by the client's timeout); undefined without a pod. */
  private async observeQemu(
    vm: VirtualMachine,
    pod: V1Pod | undefined,
  ): Promise<QemuObservation | undefined> {
    if (!pod || pod.status?.phase !== 'Running') return undefined;
    try {
      const q = await (await this.runner(vm, pod)).qemuState();
      return {
        custody: q.guest,
        qemuStatus: q.qemuStatus,
        migration: q.migration,
        ...(q.migrationError ? { migrationError: q.migrationError } : {}),
        ...(q.qemuVersion ? { qemuVersion: q.qemuVersion } : {}),
        ...(q.incomingDisks ? { incomingDisks: q.incomingDisks } : {}),
      };
    } catch (err) {
      return { error: err instanceof Error ? err.message : String(err) };
    }
  }

  private async runner(vm: VirtualMachine, pod: V1Pod): Promise<RunnerApi> {
    const host = pod.status?.podIP;
    if (!host) throw new Error(`pod ${pod.metadata?.name} has no IP`);
    return this.deps.runners({
      host,
      port: vmRunnerPort(vm),
      token: await this.deps.secrets.ensureToken(vm),
    });
  }
}

function isActive(status: string | undefined): boolean {
  return status !== undefined && !['none', 'completed', 'failed', 'cancelled'].includes(status);
}
