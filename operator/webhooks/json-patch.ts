/** RFC 6902 JSON Patch computed between two JSON values (objects diffed by key, arrays replaced). */
export interface JsonPatchOperation {
  op: 'add' | 'remove' | 'replace';
  path: string;
  value?: unknown;
}

export function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function createJsonPatch(before: unknown, after: unknown, path = ''): JsonPatchOperation[] {
  if (isObject(before) && isObject(after)) {
    const ops: JsonPatchOperation[] = [];
    for (const key of Object.keys(before)) {
      if (before[key] !== undefined && after[key] === undefined)
        ops.push({ op: 'remove', path: `${path}/${escapePointer(key)}` });
    }
    for (const [key, value] of Object.entries(after)) {
      if (value === undefined) continue;
      const child = `${path}/${escapePointer(key)}`;
      if (before[key] === undefined) ops.push({ op: 'add', path: child, value });
      else ops.push(...createJsonPatch(before[key], value, child));
    }
    return ops;
  }
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  return [{ op: 'replace', path, value: after }];
}
