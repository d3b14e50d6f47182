/**
 * ArgoCD sync waves: CRDs must exist before the operator, and the operator (with its webhooks)
 * before any VirtualMachine, or ArgoCD's first sync fails on unknown kinds / unreachable webhooks.
 */
export const SYNC_WAVE_ANNOTATION = 'argocd.argoproj.io/sync-wave';

/** The waves NeonVM objects use; any integer works, these keep the relative order. */
export const SyncWave = {
  /** CustomResourceDefinitions (NeonVM, Multus, Whereabouts). */
  CRDS: -2,
  /** Namespace, RBAC, operator Deployment, webhooks, networks. */
  OPERATOR: -1,
  /** VirtualMachines and their Services. */
  VIRTUAL_MACHINES: 0,
  /** Migrations act on existing VMs. */
  MIGRATIONS: 1,
} as const;

/** The annotation map for a wave, or nothing when no wave is requested. */
export function syncWaveAnnotations(wave: number | undefined): Record<string, string> {
  return wave === undefined ? {} : { [SYNC_WAVE_ANNOTATION]: String(wave) };
}
