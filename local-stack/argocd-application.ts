/**
 * Reading an ArgoCD Application's status from the cluster: what ArgoCD itself reports (sync status,
 * health, the last operation and its per-resource results), typed as far as we read it.
 */
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';

export interface ArgoResourceResult {
  readonly group?: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  readonly status?: string;
  readonly message?: string;
  readonly syncPhase?: string;
}

export interface ArgoResourceStatus {
  readonly group?: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  readonly status?: string;
  readonly health?: { readonly status?: string; readonly message?: string };
}

export interface ArgoApplication {
  readonly metadata: { readonly name: string; readonly annotations?: Record<string, string> };
  readonly spec?: {
    readonly syncPolicy?: { readonly automated?: { readonly prune?: boolean; readonly selfHeal?: boolean } };
  };
  readonly status?: {
    readonly sync?: { readonly status?: string; readonly revision?: string };
    readonly health?: { readonly status?: string; readonly message?: string };
    readonly resources?: readonly ArgoResourceStatus[];
    readonly conditions?: readonly { readonly type: string; readonly message: string }[];
    readonly operationState?: {
      readonly phase?: string;
      readonly message?: string;
      readonly startedAt?: string;
      readonly finishedAt?: string;
      readonly operation?: { readonly sync?: { readonly revision?: string } };
      readonly syncResult?: {
        readonly revision?: string;
        readonly resources?: readonly ArgoResourceResult[];
      };
    };
  };
}

export async function readApplication(
  kubeConfig: KubeConfig,
  name: string,
  namespace = 'argocd',
): Promise<ArgoApplication> {
  return (await kubeConfig.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({
    group: 'argoproj.io',
    version: 'v1alpha1',
    namespace,
    plural: 'applications',
    name,
  })) as ArgoApplication;
}

/** One line for people: `neonvm-vms: Synced, Healthy (rev 1a2b3c4) -- last sync Succeeded`. */
export function describeApplication(app: ArgoApplication): string {
  const s = app.status;
  const rev = s?.sync?.revision ? ` (rev ${s.sync.revision.slice(0, 7)})` : '';
  const op = s?.operationState
    ? ` -- last sync ${s.operationState.phase ?? '?'}${s.operationState.phase !== 'Succeeded' && s.operationState.message ? `: ${s.operationState.message}` : ''}`
    : '';
  const health = s?.health?.message
    ? `${s.health.status} (${s.health.message})`
    : (s?.health?.status ?? 'Unknown');
  return `${app.metadata.name}: ${s?.sync?.status ?? 'Unknown'}, ${health}${rev}${op}`;
}

/** One line for people: `VirtualMachine vms/example: Synced, Healthy (Running on node neonvm-node-1)`. */
export function describeResource(r: ArgoResourceStatus): string {
  const where = r.namespace ? `${r.namespace}/${r.name}` : r.name;
  const health = r.health?.status
    ? `, ${r.health.status}${r.health.message ? ` (${r.health.message})` : ''}`
    : '';
  return `${r.kind} ${where}: ${r.status ?? 'Unknown'}${health}`;
}

/**
 * Argo CD reports the app Synced at `revision` (and with `health`, if given); a sync operation that
 * ran for that revision has Succeeded. A commit whose objects already match the cluster needs no
 * operation, so none is required.
 */
export function applicationSyncedAt(app: ArgoApplication, revision: string, health?: string): boolean {
  const s = app.status;
  const op = s?.operationState;
  const opForRevision = op?.operation?.sync?.revision === revision || op?.syncResult?.revision === revision;
  return (
    s?.sync?.status === 'Synced' &&
    s.sync.revision === revision &&
    (!opForRevision || op?.phase === 'Succeeded') &&
    (health === undefined || s.health?.status === health)
  );
}

/** The resource of an Application's status (its sync status and the health ArgoCD computed). */
export function resourceStatus(
  app: ArgoApplication,
  kind: string,
  name: string,
): ArgoResourceStatus | undefined {
  return app.status?.resources?.find((r) => r.kind === kind && r.name === name);
}
