/**
 * The JSON documents of an image (index, manifest, config, docker-save manifest.json): types and
 * strict parsers. Pure. Parsers check what the reader relies on and keep everything else, since
 * the specs allow extension fields.
 */
import { parseDigest } from './digest';
import { OciError } from './errors';

export interface Platform {
  readonly architecture: string;
  readonly os: string;
  readonly variant?: string;
}

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly platform?: Platform;
}

export interface ImageIndex {
  readonly schemaVersion: 2;
  readonly mediaType?: string;
  readonly manifests: readonly Descriptor[];
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface ImageManifest {
  readonly schemaVersion: 2;
  readonly mediaType?: string;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
  readonly annotations?: Readonly<Record<string, string>>;
}

/** The process part of an image config (OCI `config`, Docker `container_config`'s successor). */
export interface ContainerConfig {
  readonly Entrypoint?: readonly string[] | null;
  readonly Cmd?: readonly string[] | null;
  readonly Env?: readonly string[] | null;
  readonly WorkingDir?: string;
  readonly User?: string;
  readonly Labels?: Readonly<Record<string, string>> | null;
  readonly ExposedPorts?: Readonly<Record<string, object>> | null;
  readonly StopSignal?: string;
}

export interface HistoryEntry {
  readonly created?: string;
  readonly created_by?: string;
  readonly comment?: string;
  readonly empty_layer?: boolean;
}

export interface ImageConfig {
  readonly architecture: string;
  readonly os: string;
  readonly variant?: string;
  readonly created?: string;
  readonly config?: ContainerConfig;
  readonly rootfs: { readonly type: 'layers'; readonly diff_ids: readonly string[] };
  readonly history?: readonly HistoryEntry[];
}

/** One image of a `docker save` archive's manifest.json. */
export interface DockerArchiveImage {
  readonly Config: string;
  readonly RepoTags?: readonly string[] | null;
  readonly Layers: readonly string[];
}

type Json = Record<string, unknown>;

function fail(where: string, message: string): never {
  throw new OciError('invalid-document', `${where}: ${message}`);
}

/** Parses JSON text into an object, with the document's name in the error. */
export function parseJsonObject(text: string, where: string): Json {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    fail(where, `not valid JSON (${(e as Error).message})`);
  }
  if (!isObject(value)) fail(where, 'expected a JSON object');
  return value;
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(o: Json, key: string, where: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v === '') fail(where, `${key} must be a non-empty string`);
  return v;
}

function optStr(o: Json, key: string, where: string): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') fail(where, `${key} must be a string`);
  return v;
}

function optStringArray(o: Json, key: string, where: string): string[] | null | undefined {
  const v = o[key];
  if (v === undefined || v === null) return v;
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) {
    fail(where, `${key} must be an array of strings`);
  }
  return v as string[];
}

function optStringMap(o: Json, key: string, where: string): Record<string, string> | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!isObject(v) || !Object.values(v).every((s) => typeof s === 'string')) {
    fail(where, `${key} must be a map of strings`);
  }
  return v as Record<string, string>;
}

function schemaVersion2(o: Json, where: string): 2 {
  if (o.schemaVersion !== 2) fail(where, `schemaVersion must be 2 (got ${JSON.stringify(o.schemaVersion)})`);
  return 2;
}

export function parsePlatform(v: unknown, where: string): Platform {
  if (!isObject(v)) fail(where, 'platform must be an object');
  const variant = optStr(v, 'variant', where);
  return {
    architecture: str(v, 'architecture', where),
    os: str(v, 'os', where),
    ...(variant ? { variant } : {}),
  };
}

export function parseDescriptor(v: unknown, where: string): Descriptor {
  if (!isObject(v)) fail(where, 'descriptor must be an object');
  const digest = str(v, 'digest', where);
  parseDigest(digest);
  const size = v.size;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    fail(where, 'size must be a non-negative integer');
  }
  const annotations = optStringMap(v, 'annotations', where);
  return {
    mediaType: str(v, 'mediaType', where),
    digest,
    size,
    ...(annotations ? { annotations } : {}),
    ...(v.platform !== undefined ? { platform: parsePlatform(v.platform, `${where}.platform`) } : {}),
  };
}

function descriptors(o: Json, key: string, where: string): Descriptor[] {
  const v = o[key];
  if (!Array.isArray(v)) fail(where, `${key} must be an array`);
  return v.map((d, i) => parseDescriptor(d, `${where}.${key}[${i}]`));
}

export function parseIndex(text: string, where: string): ImageIndex {
  const o = parseJsonObject(text, where);
  const annotations = optStringMap(o, 'annotations', where);
  return {
    schemaVersion: schemaVersion2(o, where),
    mediaType: optStr(o, 'mediaType', where),
    manifests: descriptors(o, 'manifests', where),
    ...(annotations ? { annotations } : {}),
  };
}

export function parseManifest(text: string, where: string): ImageManifest {
  const o = parseJsonObject(text, where);
  const annotations = optStringMap(o, 'annotations', where);
  return {
    schemaVersion: schemaVersion2(o, where),
    mediaType: optStr(o, 'mediaType', where),
    config: parseDescriptor(o.config, `${where}.config`),
    layers: descriptors(o, 'layers', where),
    ...(annotations ? { annotations } : {}),
  };
}

function parseContainerConfig(v: unknown, where: string): ContainerConfig | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) fail(where, 'must be an object');
  return {
    ...v,
    Entrypoint: optStringArray(v, 'Entrypoint', where),
    Cmd: optStringArray(v, 'Cmd', where),
    Env: optStringArray(v, 'Env', where),
    WorkingDir: optStr(v, 'WorkingDir', where),
    User: optStr(v, 'User', where),
  };
}

export function parseImageConfig(text: string, where: string): ImageConfig {
  const o = parseJsonObject(text, where);
  const rootfs = o.rootfs;
  if (!isObject(rootfs) || rootfs.type !== 'layers') fail(where, 'rootfs.type must be "layers"');
  const diffIds = optStringArray(rootfs, 'diff_ids', `${where}.rootfs`) ?? [];
  diffIds.forEach((d) => parseDigest(d));
  const history = o.history;
  if (history !== undefined && !Array.isArray(history)) fail(where, 'history must be an array');
  const variant = optStr(o, 'variant', where);
  const config = parseContainerConfig(o.config, `${where}.config`);
  return {
    architecture: str(o, 'architecture', where),
    os: str(o, 'os', where),
    ...(variant ? { variant } : {}),
    created: optStr(o, 'created', where),
    ...(config ? { config } : {}),
    rootfs: { type: 'layers', diff_ids: diffIds },
    ...(history ? { history: history as HistoryEntry[] } : {}),
  };
}

export function parseDockerArchiveManifest(text: string, where: string): DockerArchiveImage[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    fail(where, `not valid JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(value) || value.length === 0) fail(where, 'expected a non-empty array of images');
  return value.map((img, i) => {
    const w = `${where}[${i}]`;
    if (!isObject(img)) fail(w, 'expected an object');
    const layers = optStringArray(img, 'Layers', w);
    if (!layers) fail(w, 'Layers must be an array of strings');
    return { Config: str(img, 'Config', w), RepoTags: optStringArray(img, 'RepoTags', w), Layers: layers };
  });
}
