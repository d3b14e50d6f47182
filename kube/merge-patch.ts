/** RFC 7386 JSON merge patches computed from two JSON values (`null` removes a key), and how to send one. */
// Deep imports of two small modules: client-node's index loads every generated API (see kube-connection.ts).
import { setHeaderOptions } from '@kubernetes/client-node/dist/middleware.js';
import { PatchStrategy } from '@kubernetes/client-node/dist/patch.js';

/** Request options for client-node's `patch*` calls: the body is a JSON merge patch. */
export const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** What `JSON.stringify` would write for `v` (Dates and other `toJSON` objects as their JSON form). */
function jsonValue(v: unknown): unknown {
  return typeof v === 'object' && v !== null && typeof (v as { toJSON?: unknown }).toJSON === 'function'
    ? (v as { toJSON(): unknown }).toJSON()
    : v;
}

/**
 * Equality of the JSON two values serialize to, ignoring the order of object keys: the API server
 * returns objects with their keys sorted, so comparing serialized text made every condition we
 * rebuilt (same values, our key order) look changed, and each such round sent a status patch that
 * changed nothing. Keys whose value is undefined are absent in JSON, and so here.
 */
export function jsonEqual(x: unknown, y: unknown): boolean {
  const a = jsonValue(x);
  const b = jsonValue(y);
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    // JSON writes undefined array elements as null.
    return a.every((v, i) => jsonEqual(v ?? null, b[i] ?? null));
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const keysA = Object.keys(ra).filter((k) => ra[k] !== undefined);
  const keysB = Object.keys(rb).filter((k) => rb[k] !== undefined);
  return keysA.length === keysB.length && keysA.every((k) => k in rb && jsonEqual(ra[k], rb[k]));
}

/**
 * The merge patch that turns `before` into `after`, or undefined when they are equal. Objects are
 * diffed key by key; arrays and scalars are replaced whole (merge-patch semantics).
 */
export function createMergePatch(before: unknown, after: unknown): Record<string, unknown> | undefined {
  if (!isObject(before) || !isObject(after)) throw new Error('merge patches are computed between objects');
  const patch: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const a = before[key];
    const b = after[key];
    if (b === undefined) {
      if (a !== undefined) patch[key] = null;
    } else if (isObject(a) && isObject(b)) {
      const sub = createMergePatch(a, b);
      if (sub) patch[key] = sub;
    } else if (!jsonEqual(a, b)) {
      patch[key] = b;
    }
  }
  return Object.keys(patch).length > 0 ? patch : undefined;
}
