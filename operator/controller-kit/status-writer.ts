/**
 * Writes through the status subresource as a merge patch of the difference, with the object's
 * resourceVersion as precondition: a concurrent writer makes it fail with 409 Conflict, and the
 * reconcile is retried from fresh state instead of overwriting someone else's change.
 */
import {
  createMergePatch,
  isNotFound,
  type CustomResourceClient,
  type KubeObject,
  type WriteRecorder,
} from '../../kube';

export interface WithStatus<S> extends KubeObject {
  status?: S;
}

/** Patches `status` of `obj` to `next`; returns the stored object (or `obj` when nothing changed). */
export async function writeStatus<S extends object, T extends WithStatus<S>>(
  client: CustomResourceClient<T>,
  obj: T,
  next: S,
  recorder?: WriteRecorder<T>,
): Promise<T> {
  const diff = createMergePatch(obj.status ?? {}, next);
  if (!diff) return obj;
  const { namespace = '', name = '', resourceVersion } = obj.metadata ?? {};
  try {
    const stored = await client.patchStatus(namespace, name, { metadata: { resourceVersion }, status: diff });
    recorder?.recordWrite(stored);
    return stored;
  } catch (err) {
    // The object is gone (deleted since it was read): there is no status left to write.
    if (isNotFound(err)) return obj;
    throw err;
  }
}

/** Merge-patches metadata/spec of `obj` with a resourceVersion precondition; a deleted object is a no-op. */
export async function patchObject<T extends KubeObject>(
  client: CustomResourceClient<T>,
  obj: T,
  patch: Record<string, unknown>,
  recorder?: WriteRecorder<T>,
): Promise<T> {
  const { namespace = '', name = '', resourceVersion } = obj.metadata ?? {};
  const meta = (patch.metadata as Record<string, unknown> | undefined) ?? {};
  try {
    const stored = await client.patch(namespace, name, { ...patch, metadata: { ...meta, resourceVersion } });
    recorder?.recordWrite(stored);
    return stored;
  } catch (err) {
    if (isNotFound(err)) return obj;
    throw err;
  }
}
