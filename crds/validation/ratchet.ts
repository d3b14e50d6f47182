/**
 * Update validation ratchets (as Kubernetes' CRD validation ratcheting, KEP-4008): an update is judged
 * on what it changes. An error of the new object is dropped when the old object had the same error (same
 * path and rule) and the value at that path did not change — so a rule tightened in a later release
 * never blocks updates that leave the offending field alone, and a finalizer can always be removed.
 * Requiring the old error too keeps cross-field rules honest: changing `spec.runnerPort` into a guest
 * port reports the (unchanged) port, because the old object had no such error.
 */
import type { FieldError } from '../field-error';
import { deepEqual } from './util';

/** The value at a field path (`spec.disks[1].name`, `metadata.labels[app.kubernetes.io/name]`). */
export function valueAtPath(obj: unknown, path: string): unknown {
  if (!path) return obj;
  let cur: unknown = obj;
  for (const seg of splitPath(path)) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

function splitPath(path: string): string[] {
  const segs: string[] = [];
  const re = /([^.[\]]+)|\[([^\]]*)\]/g;
  for (let m = re.exec(path); m; m = re.exec(path)) segs.push(m[1] ?? m[2]);
  return segs;
}

export function ratchetUpdateErrors(
  errors: readonly FieldError[],
  oldErrors: readonly FieldError[],
  oldObj: unknown,
  newObj: unknown,
): FieldError[] {
  const before = new Set(oldErrors.map((e) => `${e.rule}\u0000${e.path}`));
  return errors.filter(
    (e) =>
      !before.has(`${e.rule}\u0000${e.path}`) ||
      !deepEqual(valueAtPath(oldObj, e.path), valueAtPath(newObj, e.path)),
  );
}

/** Whether the update only touches metadata/status of an object being deleted (finalizer removal). */
export function isDeletionOnlyUpdate(oldObj: unknown, newObj: unknown): boolean {
  const meta = valueAtPath(newObj, 'metadata.deletionTimestamp');
  return !!meta && deepEqual(valueAtPath(oldObj, 'spec'), valueAtPath(newObj, 'spec'));
}
