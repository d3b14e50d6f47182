/**
 * The informers the leader's controllers read from: what each one watches, with which selector — the
 * operator caches only its own objects (runner pods and spec.tls CertificateRequests by label), never
 * every Pod. It watches no Secrets at all: RBAC cannot limit list/watch to a label, so a label-filtered
 * Secret informer would still need the right to read every Secret of the cluster; the operator reads
 * the Secrets it names by GET instead.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { LABEL_TLS_FOR_VM, LABEL_VM_NAME, type VirtualMachine, type VirtualMachineMigration } from '../crds';
import type { Clock } from '../host';
import {
  Informer,
  stripManagedFields,
  type CoreApi,
  type CustomResourceClient,
  type KubeObject,
  type Watcher,
} from '../kube';
import { errorFields, type Logger } from './controller-kit';
import type { CertificateRequest } from './tls';

export interface OperatorInformers {
  readonly vms: Informer<VirtualMachine>;
  readonly migrations: Informer<VirtualMachineMigration>;
  /** Runner pods (label vm.neon.tech/name), target pods of migrations included. */
  readonly pods: Informer<V1Pod>;
  /**
   * The operator's CertificateRequests (same label). Started on the first VM with spec.tls, so that a
   * cluster without cert-manager has no failing watch (see `startOnDemand`).
   */
  readonly certificateRequests: Informer<CertificateRequest>;
}

export interface InformerSources {
  /** Opens the watches (the operator's KubeClient). */
  readonly watcher: Watcher;
  readonly core: Pick<CoreApi, 'listPodForAllNamespaces'>;
  readonly vms: CustomResourceClient<VirtualMachine>;
  readonly migrations: CustomResourceClient<VirtualMachineMigration>;
  readonly certificateRequests: CustomResourceClient<CertificateRequest>;
  readonly clock: Clock;
  readonly log: Logger;
  /** Called as each watch request is sent (request metrics). */
  readonly onWatch?: (path: string) => void;
  /** Every cached object is handed to the handlers again this often (default 10 min). */
  readonly resyncMs?: number;
}

export const DEFAULT_RESYNC_MS = 10 * 60_000;

export function createInformers(s: InformerSources): OperatorInformers {
  const common = {
    watcher: s.watcher,
    clock: s.clock,
    resyncMs: s.resyncMs ?? DEFAULT_RESYNC_MS,
    // The controllers never read managedFields; a runner pod's are a third of its size.
    transform: stripManagedFields,
    ...(s.onWatch ? { onWatch: s.onWatch } : {}),
    onError: (err: unknown, retryInMs: number, informer: string) =>
      s.log.warn({ informer, retryInMs, ...errorFields(err) }, 'watch failed; restarting'),
  };
  const informer = <T extends KubeObject>(
    name: string,
    path: string,
    list: () => Promise<{ items: T[]; metadata?: { resourceVersion?: string } }>,
    labelSelector?: string,
  ) => new Informer<T>({ ...common, name, path, list, ...(labelSelector ? { labelSelector } : {}) });
  const byTlsLabel = { labelSelector: LABEL_TLS_FOR_VM };
  return {
    vms: informer('virtualmachines', s.vms.path(), () => s.vms.list()),
    migrations: informer('virtualmachinemigrations', s.migrations.path(), () => s.migrations.list()),
    pods: informer(
      'runner-pods',
      '/api/v1/pods',
      () => s.core.listPodForAllNamespaces({ labelSelector: LABEL_VM_NAME }),
      LABEL_VM_NAME,
    ),
    certificateRequests: informer(
      'certificaterequests',
      s.certificateRequests.path(),
      () => s.certificateRequests.list(undefined, byTlsLabel),
      LABEL_TLS_FOR_VM,
    ),
  };
}

/** The informers the controllers need listed before they start (all but the on-demand one). */
export async function startInformers(i: OperatorInformers): Promise<void> {
  await Promise.all([i.vms.start(), i.migrations.start(), i.pods.start()]);
}

export function informersSynced(i: OperatorInformers): boolean {
  return i.vms.hasSynced() && i.migrations.hasSynced() && i.pods.hasSynced();
}

/** Starts an informer in the background if it is not running (it lists, retrying, on its own). */
export function startOnDemand(informer: { readonly running: boolean; start(): Promise<void> }): void {
  if (!informer.running) void informer.start();
}

export async function stopInformers(i: OperatorInformers): Promise<void> {
  const all: Array<{ stop(): Promise<void> }> = Object.values(i);
  await Promise.all(all.map((informer) => informer.stop()));
}
