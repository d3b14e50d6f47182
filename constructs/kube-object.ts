/**
 * Plain Kubernetes objects, as the pure builders produce them (their cdk8s L1 form: api-object.ts).
 */

export interface KubeObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** Any Kubernetes object with identity; the body stays as typed by its builder. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: KubeObjectMeta;
  [key: string]: unknown;
}

/** Adds annotations to a copy of an object (ArgoCD waves, cert-manager injection). */
export function withAnnotations<T extends KubeObject>(obj: T, annotations: Record<string, string>): T {
  if (Object.keys(annotations).length === 0) return obj;
  return {
    ...obj,
    metadata: { ...obj.metadata, annotations: { ...obj.metadata.annotations, ...annotations } },
  };
}

/** A typed object from `crds` (whose TypeMeta is optional in the schema) with its identity checked. */
export function asKubeObject(obj: {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string };
}): KubeObject {
  if (!obj.apiVersion || !obj.kind || !obj.metadata?.name) {
    throw new Error(`object without apiVersion, kind or metadata.name: ${JSON.stringify(obj).slice(0, 200)}`);
  }
  return obj as KubeObject;
}
