/**
 * An ArgoCD `Application` for a repository of synthesized NeonVM manifests, with the sync options and
 * ignoreDifferences NeonVM needs. Used for `examples/argocd/application.yaml`.
 */
import { ARGOCD_SYNC_OPTIONS, argoCdIgnoreDifferences, type IgnoreDifference } from './ignore-differences';

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
}

export interface ArgoCdApplication {
  apiVersion: 'argoproj.io/v1alpha1';
  kind: 'Application';
  metadata: { name: string; namespace: string };
  spec: {
    project: string;
    source: { repoURL: string; path: string; targetRevision: string };
    destination: { server: string; namespace: string };
    syncPolicy: { automated: { prune: boolean; selfHeal: boolean }; syncOptions: string[] };
    ignoreDifferences: IgnoreDifference[];
  };
}

export function argoCdApplication(options: ArgoCdApplicationOptions): ArgoCdApplication {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name: options.name, namespace: 'argocd' },
    spec: {
      project: options.project ?? 'default',
      source: {
        repoURL: options.repoURL,
        path: options.path,
        targetRevision: options.targetRevision ?? 'HEAD',
      },
      destination: { server: 'https://kubernetes.default.svc', namespace: options.namespace ?? 'default' },
      syncPolicy: { automated: { prune: true, selfHeal: true }, syncOptions: [...ARGOCD_SYNC_OPTIONS] },
      ignoreDifferences: argoCdIgnoreDifferences(),
    },
  };
}
