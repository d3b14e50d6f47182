/** Finalizer helpers: pure predicates plus patch bodies (applied with a resourceVersion precondition). */
import type { KubeObject } from '../../kube';

export function hasFinalizer(obj: KubeObject, finalizer: string): boolean {
  return obj.metadata?.finalizers?.includes(finalizer) ?? false;
}

export function isBeingDeleted(obj: KubeObject): boolean {
  return obj.metadata?.deletionTimestamp !== undefined && obj.metadata?.deletionTimestamp !== null;
}

/** Merge patch adding `finalizer` (keeps the others in order). */
export function addFinalizerPatch(obj: KubeObject, finalizer: string): Record<string, unknown> {
  return { metadata: { finalizers: [...(obj.metadata?.finalizers ?? []), finalizer] } };
}

/** Merge patch removing `finalizer`. */
export function removeFinalizerPatch(obj: KubeObject, finalizer: string): Record<string, unknown> {
  const rest = (obj.metadata?.finalizers ?? []).filter((f) => f !== finalizer);
  return { metadata: { finalizers: rest.length > 0 ? rest : null } };
}
