/** Reading manifest files for the CLI: every document, tagged with where it came from. */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { parseManifests } from '../crds';

export interface SourcedObject {
  readonly file: string;
  readonly index: number;
  readonly object: Record<string, unknown>;
}

/** Expands directories into their .yaml/.yml/.json files (sorted, non-recursive). */
export function expandManifestPaths(paths: readonly string[]): string[] {
  return paths.flatMap((p) =>
    statSync(p).isDirectory()
      ? readdirSync(p)
          .filter((f) => ['.yaml', '.yml', '.json'].includes(extname(f)))
          .sort()
          .map((f) => join(p, f))
      : [p],
  );
}

export function readManifestFile(file: string): SourcedObject[] {
  return parseManifests(readFileSync(file, 'utf8'), file).map((object, index) => ({ file, index, object }));
}

export function describeObject(o: Record<string, unknown>): string {
  const meta = (o.metadata ?? {}) as { name?: string; namespace?: string };
  return `${String(o.kind)}/${meta.namespace ? `${meta.namespace}/` : ''}${meta.name ?? '<unnamed>'}`;
}

/** Structural equality of two parsed manifests (plain JSON data). */
export function deepEqualJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return (
    ka.length === kb.length &&
    ka.every((k) => deepEqualJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  );
}
