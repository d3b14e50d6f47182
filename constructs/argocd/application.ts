/**
 * An ArgoCD `Application` for a repository of synthesized NeonVM manifests, with the sync options and
 * ignoreDifferences NeonVM needs. Used for `examples/argocd/application.yaml` and the app-of-apps
 * platform repository (`examples/gitops`).
 */
import { syncWaveAnnotations } from '../argocd-sync-wave';
import { ARGOCD_SYNC_OPTIONS, argoCdIgnoreDifferences, type IgnoreDifference } from './ignore-differences';

/** Deleting an Application with this finalizer deletes what it deployed (cascade), as ArgoCD documents. */
export const ARGOCD_RESOURCES_FINALIZER = 'resources-finalizer.argocd.argoproj.io';
/** `destination.server` of the cluster ArgoCD runs in. */
export const ARGOCD_IN_CLUSTER = 'https://kubernetes.default.svc';

export interface ArgoCdApplicationOptions {
  readonly name: string;
  /** Git repository holding the synthesized YAML. */
  readonly repoURL: string;
  /** Directory of the YAML in the repository (e.g. `dist/`). */
  readonly path: string;
  /**
   * @default 'HEAD'
   */
  readonly targetRevision?: string;
  /**
   * Destination namespace for objects without one.
   * @default 'default'
   */
  readonly namespace?: string;
  /**
   * @default 'default'
   */
  readonly project?: string;
  /**
   * Namespace of ArgoCD itself (where Applications live).
   * @default 'argocd'
   */
  readonly argoCdNamespace?: string;
  /**
   * Sync wave of the Application itself, when a parent Application (app-of-apps) deploys it.
   * @default - none
   */
  readonly syncWave?: number;
  /**
   * Delete what the Application deployed when the Application is deleted (ArgoCD's resources finalizer).
   * @default false
   */
  readonly cascadeDelete?: boolean;
  /**
   * Create the destination namespace if it does not exist (`CreateNamespace=true`).
   * @default false
   */
  readonly createNamespace?: boolean;
  /**
   * Automated sync: prune what left git, revert drift (self-heal).
   * @default { prune: true, selfHeal: true }
   */
  readonly automated?: { readonly prune: boolean; readonly selfHeal: boolean };
  /**
   * @default argoCdIgnoreDifferences()
   */
  readonly ignoreDifferences?: readonly IgnoreDifference[];
  /**
   * Add `SkipDryRunOnMissingResource=true`: for an Application whose VMs may sync before the
   * NeonVM CRDs exist (the install is another Application, or comes later), so the dry run does not
   * fail on the unknown kind. Argo CD retries the real apply once the CRDs are there (with
   * `retryLimit`).
   * @default false
   */
  readonly skipDryRunOnMissingResource?: boolean;
  /**
   * Retry a failed sync (a webhook not reachable yet, a transient API error) this many times, with
   * back-off from 5 s doubling up to 1 min.
   * @default - no retry
   */
  readonly retryLimit?: number;
}

export interface ArgoCdRetry {
  limit: number;
  backoff: { duration: string; factor: number; maxDuration: string };
}

export interface ArgoCdApplication {
  apiVersion: 'argoproj.io/v1alpha1';
  kind: 'Application';
  metadata: { name: string; namespace: string; annotations?: Record<string, string>; finalizers?: string[] };
  spec: {
    project: string;
    source: { repoURL: string; path: string; targetRevision: string };
    destination: { server: string; namespace: string };
    syncPolicy: {
      automated: { prune: boolean; selfHeal: boolean };
      syncOptions: string[];
      retry?: ArgoCdRetry;
    };
    ignoreDifferences: IgnoreDifference[];
  };
}

export function argoCdApplication(options: ArgoCdApplicationOptions): ArgoCdApplication {
  const annotations = syncWaveAnnotations(options.syncWave);
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: {
      name: options.name,
      namespace: options.argoCdNamespace ?? 'argocd',
      ...(Object.keys(annotations).length ? { annotations } : {}),
      ...(options.cascadeDelete ? { finalizers: [ARGOCD_RESOURCES_FINALIZER] } : {}),
    },
    spec: {
      project: options.project ?? 'default',
      source: {
        repoURL: options.repoURL,
        path: options.path,
        targetRevision: options.targetRevision ?? 'HEAD',
      },
      destination: { server: ARGOCD_IN_CLUSTER, namespace: options.namespace ?? 'default' },
      syncPolicy: {
        automated: { ...(options.automated ?? { prune: true, selfHeal: true }) },
        syncOptions: [
          ...ARGOCD_SYNC_OPTIONS,
          ...(options.createNamespace ? ['CreateNamespace=true'] : []),
          ...(options.skipDryRunOnMissingResource ? ['SkipDryRunOnMissingResource=true'] : []),
        ],
        ...(options.retryLimit
          ? {
              retry: { limit: options.retryLimit, backoff: { duration: '5s', factor: 2, maxDuration: '1m' } },
            }
          : {}),
      },
      ignoreDifferences: [...(options.ignoreDifferences ?? argoCdIgnoreDifferences())],
    },
  };
}
