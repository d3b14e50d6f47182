/**
 * spec.tls as its own controller, keyed by VM: observe (Secrets by name, CertificateRequests from
 * the informer cache) → decide
 * (`decideTlsAction`) → act (key Secret, CertificateRequest, TLS Secret) → apply the VM's
 * `CertificateReady` condition. That condition is the only part of the VM it writes (server-side
 * apply, field manager `neonvm-tls`); the VM reconciler reads it to gate the first runner pod and to
 * say why the VM waits or is degraded.
 */
import { defaultVirtualMachine, FINALIZER, type VirtualMachine } from '../../crds';
import {
  apiErrorMessage,
  isConflict,
  isNotFound,
  type CustomResourceClient,
  type Informer,
  type ObjectRef,
} from '../../kube';
import {
  Reasons,
  RetryLaterError,
  findCondition,
  hasFinalizer,
  isBeingDeleted,
  type Clock,
  type EventRecorder,
  type Logger,
  type ReconcileResult,
  type Reconciler,
} from '../controller-kit';
import { tlsSecretName } from '../vm/names';
import {
  CONDITION_CERTIFICATE_READY,
  TLS_FIELD_MANAGER,
  certificateCondition,
  nextCertificateCondition,
} from './certificate-condition';
import type { CertificateRequest } from './certificate-request';
import { decideTlsAction, TLS_RETRY_MS, type TlsDecision } from './decide-tls-action';
import { CERT_MANAGER_MISSING, TlsProvisioner } from './tls-provisioner';

/** While the CertificateRequest informer makes its first list: look again this soon. */
export const TLS_WATCH_STARTING_MS = 500;

export interface TlsReconcilerDeps {
  readonly vms: CustomResourceClient<VirtualMachine>;
  readonly vmInformer: Informer<VirtualMachine>;
  readonly provisioner: TlsProvisioner;
  /** The label-filtered CertificateRequest informer: started on the first VM with spec.tls. */
  readonly requestInformer: Informer<CertificateRequest>;
  /** Starts the CertificateRequest informer if it is not running (cert-manager is optional). */
  readonly watchRequests: () => void;
  readonly events: EventRecorder;
  readonly clock: Clock;
}

export class TlsReconciler implements Reconciler {
  constructor(private readonly deps: TlsReconcilerDeps) {}

  async reconcile(ref: ObjectRef, log: Logger): Promise<ReconcileResult> {
    const d = this.deps;
    const cached = d.vmInformer.get(ref.namespace, ref.name);
    if (!cached) return {};
    const vm = defaultVirtualMachine(structuredClone(cached));
    if (!vm.spec.tls) {
      // spec.tls was removed: the condition goes with it (the objects stay owned by the VM).
      if (findCondition(cached.status?.conditions, CONDITION_CERTIFICATE_READY))
        await this.apply(cached, undefined);
      return {};
    }
    // The VM reconciler adds the finalizer first; a VM being deleted needs no new certificate.
    if (isBeingDeleted(vm) || !hasFinalizer(vm, FINALIZER)) return {};

    const now = d.clock.now();
    const secretName = vm.status?.tlsSecretName ?? tlsSecretName(ref.name);
    const objects = await d.provisioner.observe(vm, secretName, now);
    let decision: TlsDecision = decideTlsAction(objects.observation);
    const requests = d.requestInformer;
    if (!requests.hasSynced()) {
      d.watchRequests();
      const err = requests.lastError();
      if (err === undefined) return { requeueAfterMs: TLS_WATCH_STARTING_MS };
      const problem = isNotFound(err)
        ? CERT_MANAGER_MISSING
        : `cannot watch CertificateRequests: ${apiErrorMessage(err)}`;
      decision = { ready: decision.ready, actions: [], problem, requeueAfterMs: TLS_RETRY_MS };
    }
    try {
      await d.provisioner.execute(vm, secretName, objects, decision.actions);
    } catch (err) {
      if (isConflict(err) || err instanceof RetryLaterError) throw err; // retried with fresh state
      // The first pod waits, the VM says why (Degraded), and provisioning is retried later.
      const message = err instanceof Error ? err.message : String(err);
      decision = { ready: decision.ready, actions: [], problem: message, requeueAfterMs: TLS_RETRY_MS };
    }
    if (decision.problem) {
      d.events.record(vm, 'Warning', Reasons.TlsProvisioningFailed, decision.problem);
      log.debug({ problem: decision.problem }, 'TLS provisioning failed');
    }
    const next = nextCertificateCondition(
      cached.status?.conditions,
      certificateCondition(decision, secretName),
      new Date(now),
      cached.metadata?.generation,
    );
    if (next) await this.apply(cached, { conditions: [next] });
    return decision.requeueAfterMs === undefined ? {} : { requeueAfterMs: decision.requeueAfterMs };
  }

  /** Applies exactly the status fields this controller owns (omitted ones are removed). */
  private async apply(vm: VirtualMachine, owned: object | undefined): Promise<void> {
    const { namespace = '', name = '' } = vm.metadata ?? {};
    try {
      this.deps.vmInformer.recordWrite(
        await this.deps.vms.applyStatus(namespace, name, TLS_FIELD_MANAGER, owned),
      );
    } catch (err) {
      if (!isNotFound(err)) throw err; // a deleted VM has no status left to write
    }
  }
}
