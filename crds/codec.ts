/**
 * Reading and writing NeonVM objects as YAML/JSON. Serialisation writes keys in Go struct order and
 * MilliCPU/Quantity values in canonical form, i.e. what upstream's Go encoder produces.
 */
import { parseAllDocuments, stringify } from 'yaml';
import { kindInfo, NEONVM_KINDS } from './kinds';
import { canonicalizeEncodings, orderKeys } from './schema-walk';
import { kindJsonSchema } from './defaults';

export class ManifestParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ManifestParseError';
  }
}

/** Parses a (multi-document) YAML or JSON text into plain objects; empty documents are skipped. */
export function parseManifests(text: string, source = '<input>'): Record<string, unknown>[] {
  const docs = parseAllDocuments(text, { prettyErrors: true });
  const out: Record<string, unknown>[] = [];
  docs.forEach((doc, i) => {
    if (doc.errors.length)
      throw new ManifestParseError(`${source}: document ${i + 1}: ${doc.errors[0].message}`);
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) return;
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw new ManifestParseError(`${source}: document ${i + 1} is not an object`);
    }
    out.push(value as Record<string, unknown>);
  });
  return out;
}

const METADATA_ORDER = [
  'name',
  'generateName',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'labels',
  'annotations',
  'ownerReferences',
  'finalizers',
];

/** Canonical form of any object: NeonVM kinds get Go field order and canonical encodings. */
export function canonicalObject<T>(obj: T): T {
  const o = obj as Record<string, unknown>;
  const info =
    typeof o.kind === 'string' && typeof o.apiVersion === 'string' && o.apiVersion.startsWith('vm.neon.tech/')
      ? kindInfo(o.kind)
      : undefined;
  if (!info) return obj;
  const schema = kindJsonSchema(info);
  const ordered = orderKeys(schema, canonicalizeEncodings(schema, o)) as Record<string, unknown>;
  if (ordered.metadata && typeof ordered.metadata === 'object') {
    const meta = ordered.metadata as Record<string, unknown>;
    const sorted: Record<string, unknown> = {};
    for (const k of METADATA_ORDER) if (meta[k] !== undefined) sorted[k] = meta[k];
    for (const [k, v] of Object.entries(meta)) if (!(k in sorted)) sorted[k] = v;
    ordered.metadata = sorted;
  }
  return ordered as T;
}

/**
 * YAML of one or more objects, canonical, `---`-separated. Scalars are quoted by YAML 1.1 rules (as
 * kubectl's go-yaml does), so strings such as timestamps, `"True"` or `"yes"` stay strings for every
 * reader.
 */
export function serializeManifests(objects: readonly unknown[]): string {
  return objects.map((o) => stringify(canonicalObject(o), YAML_OPTIONS)).join('---\n');
}

const YAML_OPTIONS = { lineWidth: 0, aliasDuplicateObjects: false, version: '1.1' } as const;

export function isNeonVmObject(obj: Record<string, unknown>): boolean {
  return obj.apiVersion === 'vm.neon.tech/v1' && NEONVM_KINDS.some((k) => k.kind === obj.kind);
}
