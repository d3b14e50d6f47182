/** Work-queue keys: `namespace/name` (cluster-scoped objects: `name`). */
export interface ObjectRef {
  readonly namespace: string;
  readonly name: string;
}

export interface HasMetadata {
  metadata?: { name?: string; namespace?: string };
}

export function objectKey(obj: HasMetadata): string {
  const ns = obj.metadata?.namespace ?? '';
  const name = obj.metadata?.name ?? '';
  return ns ? `${ns}/${name}` : name;
}

export function keyOf(ref: ObjectRef): string {
  return ref.namespace ? `${ref.namespace}/${ref.name}` : ref.name;
}

export function parseKey(key: string): ObjectRef {
  const i = key.indexOf('/');
  return i < 0 ? { namespace: '', name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

/**
 * The structural shape every Kubernetes object has. Wider than client-node's KubernetesObject so that
 * the crds/ types (timestamps as strings) and client-node models (timestamps as Date) both fit.
 */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    finalizers?: string[];
    deletionTimestamp?: Date | string;
    creationTimestamp?: Date | string;
    ownerReferences?: Array<{
      apiVersion: string;
      kind: string;
      name: string;
      uid: string;
      controller?: boolean;
      blockOwnerDeletion?: boolean;
    }>;
  };
}

/** A list response (`items` plus the list's resourceVersion). */
export interface ObjectList<T> {
  metadata?: { resourceVersion?: string };
  items: T[];
}
