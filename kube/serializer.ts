/**
 * Typed decoding of raw API JSON (watch events arrive as plain JSON, with dates as strings).
 * @kubernetes/client-node 1.4 does not re-export its ObjectSerializer from the package index; the class
 * lives in dist/serializer.js (the package has no "exports" map, so the deep import is allowed).
 */
import { ObjectSerializer } from '@kubernetes/client-node/dist/serializer.js';

export function decodeAs<T>(type: string): (raw: unknown) => T {
  return (raw) => ObjectSerializer.deserialize(raw, type) as T;
}
