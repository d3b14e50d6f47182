/** RFC 7386 JSON merge patches computed from two JSON values (`null` removes a key), and how to send one. */
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';

/** Request options for client-node's `patch*` calls: the body is a JSON merge patch. */
export const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function jsonEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
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
