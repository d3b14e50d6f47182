/**
 * Opening an image from an OCI layout directory, a `docker save` directory or archive, or a tar of
 * an OCI layout; resolving index → manifest → config for one platform, verifying every blob against
 * its digest; unpacking its layers in order into a directory.
 */
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { detectArchiveKind, unpackImageArchive } from './archive';
import { blobRelPath, parseDigest, sha256Digest, verifyFileDigest } from './digest';
import {
  Descriptor,
  ImageConfig,
  Platform,
  parseDockerArchiveManifest,
  parseImageConfig,
  parseIndex,
  parseManifest,
} from './documents';
import { OciError } from './errors';
import { applyLayer, LayerStats } from './layer-apply';
import { DEFAULT_LIMITS, UnpackBudget, UnpackLimits, formatBytes } from './limits';
import { ANNOTATIONS, INDEX_MEDIA_TYPES, MANIFEST_MEDIA_TYPES } from './media-types';
import {
  formatPlatform,
  hostPlatform,
  normalizeArchitecture,
  platformMatches,
  selectManifest,
} from './platform';

export type ImageFormat = 'oci-layout' | 'docker-archive';

export interface LayerBlob {
  readonly path: string;
  readonly mediaType?: string;
  /** Digest of the blob as stored (compressed); undefined for legacy docker-save layer.tar files. */
  readonly digest?: string;
  /** Digest of the uncompressed tar, from the config. */
  readonly diffId?: string;
  readonly size: number;
}

export interface OpenedImage {
  readonly source: string;
  readonly format: ImageFormat;
  /** Where blobs are read from (a temp dir for archives). */
  readonly dir: string;
  readonly manifestDigest?: string;
  readonly configDigest: string;
  readonly config: ImageConfig;
  readonly platform: Platform;
  readonly layers: readonly LayerBlob[];
  /** Reference names found in the layout (tags / RepoTags). */
  readonly refNames: readonly string[];
  /** Removes the temp dir of an unpacked archive; a no-op for directories. */
  close(): Promise<void>;
}

export interface OpenImageOptions {
  /**
   * Platform to select from a multi-platform index, and to require of the image. Without it an index
   * is resolved for the host's platform and a single-image layout is accepted whatever its platform.
   */
  readonly platform?: Platform;
  /** Image to pick when a layout holds several (its `org.opencontainers.image.ref.name` or RepoTag). */
  readonly refName?: string;
  readonly limits?: Partial<UnpackLimits>;
  /** Parent for the temp dir archives are unpacked into (default: os.tmpdir()). */
  readonly tmpDir?: string;
}

async function readDocument(path: string, what: string, limits: UnpackLimits): Promise<string> {
  if (!existsSync(path)) throw new OciError('missing-blob', `${what}: ${path} is missing`);
  const size = statSync(path).size;
  if (size > limits.maxDocumentBytes) {
    throw new OciError(
      'size-limit',
      `${what} is ${formatBytes(size)}, more than ${formatBytes(limits.maxDocumentBytes)}`,
    );
  }
  return readFile(path, 'utf8');
}

/** Reads a blob named by a descriptor: present, of the stated size and hashing to its digest. */
async function readBlobDocument(
  dir: string,
  d: Descriptor,
  what: string,
  limits: UnpackLimits,
): Promise<string> {
  const path = join(dir, blobRelPath(d.digest));
  const text = await readDocument(path, `${what} ${d.digest}`, limits);
  const bytes = Buffer.from(text, 'utf8');
  const { algorithm } = parseDigest(d.digest);
  const actual = `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
  if (actual !== d.digest) {
    throw new OciError('digest-mismatch', `${what}: blob ${d.digest} hashes to ${actual}`);
  }
  if (bytes.length !== d.size) {
    throw new OciError(
      'digest-mismatch',
      `${what}: blob ${d.digest} is ${bytes.length} bytes, the descriptor says ${d.size}`,
    );
  }
  return text;
}

function checkPlatform(config: ImageConfig, wanted: Platform | undefined, where: string): Platform {
  const actual: Platform = {
    os: config.os,
    architecture: normalizeArchitecture(config.architecture),
    ...(config.variant ? { variant: config.variant } : {}),
  };
  if (wanted && !platformMatches(actual, wanted)) {
    throw new OciError(
      'unsupported-architecture',
      `${where} is ${formatPlatform(actual)}, not the requested ${formatPlatform(wanted)}`,
    );
  }
  return actual;
}

async function openOciLayout(
  source: string,
  dir: string,
  opts: OpenImageOptions,
  limits: UnpackLimits,
): Promise<Omit<OpenedImage, 'close' | 'source'>> {
  const layoutFile = join(dir, 'oci-layout');
  if (existsSync(layoutFile)) {
    const text = await readDocument(layoutFile, 'oci-layout', limits);
    let version: unknown;
    try {
      version = (JSON.parse(text) as { imageLayoutVersion?: unknown }).imageLayoutVersion;
    } catch {
      version = undefined;
    }
    if (version !== '1.0.0')
      throw new OciError('invalid-document', `${source}: oci-layout must say imageLayoutVersion 1.0.0`);
  }
  const index = parseIndex(
    await readDocument(join(dir, 'index.json'), 'index.json', limits),
    `${source}: index.json`,
  );
  const wanted = opts.platform ?? hostPlatform();
  const refNames = index.manifests.flatMap((d) =>
    d.annotations?.[ANNOTATIONS.refName] ? [d.annotations[ANNOTATIONS.refName]] : [],
  );
  let descriptor = selectManifest(index.manifests, wanted, opts.refName, opts.platform === undefined);
  // Nested indexes (a tag pointing at a multi-platform index): follow until a manifest.
  for (let depth = 0; INDEX_MEDIA_TYPES.has(descriptor.mediaType); depth++) {
    if (depth > 8) throw new OciError('invalid-document', `${source}: image indexes nested too deeply`);
    const nested = parseIndex(
      await readBlobDocument(dir, descriptor, 'image index', limits),
      `index ${descriptor.digest}`,
    );
    descriptor = selectManifest(nested.manifests, wanted);
  }
  if (!MANIFEST_MEDIA_TYPES.has(descriptor.mediaType)) {
    throw new OciError('unsupported', `${source}: unsupported manifest media type ${descriptor.mediaType}`);
  }
  const manifest = parseManifest(
    await readBlobDocument(dir, descriptor, 'manifest', limits),
    `manifest ${descriptor.digest}`,
  );
  const config = parseImageConfig(
    await readBlobDocument(dir, manifest.config, 'image config', limits),
    `config ${manifest.config.digest}`,
  );
  const platform = checkPlatform(config, opts.platform ?? descriptor.platform, `${source}`);
  if (config.rootfs.diff_ids.length !== manifest.layers.length) {
    throw new OciError(
      'invalid-document',
      `${source}: the manifest has ${manifest.layers.length} layers, the config ${config.rootfs.diff_ids.length} diff_ids`,
    );
  }
  const layers = manifest.layers.map((l, i) => ({
    path: join(dir, blobRelPath(l.digest)),
    mediaType: l.mediaType,
    digest: l.digest,
    diffId: config.rootfs.diff_ids[i],
    size: l.size,
  }));
  return {
    format: 'oci-layout',
    dir,
    manifestDigest: descriptor.digest,
    configDigest: manifest.config.digest,
    config,
    platform,
    layers,
    refNames,
  };
}

/** Path inside a docker-save dir: relative, no `..` (the file is untrusted). */
function archivePath(dir: string, rel: string, where: string): string {
  if (rel.startsWith('/') || rel.split('/').includes('..')) {
    throw new OciError('unsafe-path', `${where}: path ${JSON.stringify(rel)} leaves the archive`);
  }
  return join(dir, rel);
}

async function openDockerArchive(
  source: string,
  dir: string,
  opts: OpenImageOptions,
  limits: UnpackLimits,
): Promise<Omit<OpenedImage, 'close' | 'source'>> {
  const images = parseDockerArchiveManifest(
    await readDocument(join(dir, 'manifest.json'), 'manifest.json', limits),
    `${source}: manifest.json`,
  );
  let image = images[0];
  if (opts.refName !== undefined) {
    const found = images.find((i) =>
      i.RepoTags?.some((t) => t === opts.refName || t.endsWith(`:${opts.refName}`)),
    );
    if (!found) throw new OciError('image-not-found', `${source}: no image tagged ${opts.refName}`);
    image = found;
  } else if (images.length > 1) {
    throw new OciError('ambiguous-image', `${source} holds ${images.length} images; name one by its tag`);
  }
  const configPath = archivePath(dir, image.Config, 'manifest.json');
  const configText = await readDocument(configPath, `config ${image.Config}`, limits);
  // Both layouts of docker save name the config by its sha256: <hex>.json or blobs/sha256/<hex>.
  const configDigest = sha256Digest(Buffer.from(configText, 'utf8'));
  const named = /([a-f0-9]{64})(\.json)?$/.exec(basename(image.Config))?.[1];
  if (named && `sha256:${named}` !== configDigest) {
    throw new OciError('digest-mismatch', `${source}: config ${image.Config} hashes to ${configDigest}`);
  }
  const config = parseImageConfig(configText, `${source}: config`);
  const platform = checkPlatform(config, opts.platform, source);
  if (config.rootfs.diff_ids.length !== image.Layers.length) {
    throw new OciError(
      'invalid-document',
      `${source}: ${image.Layers.length} layers but ${config.rootfs.diff_ids.length} diff_ids`,
    );
  }
  const layers = image.Layers.map((rel, i) => {
    const path = archivePath(dir, rel, 'manifest.json');
    if (!existsSync(path)) throw new OciError('missing-blob', `${source}: layer ${rel} is missing`);
    const blobHex = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(rel)?.[1];
    return {
      path,
      digest: blobHex ? `sha256:${blobHex}` : undefined,
      diffId: config.rootfs.diff_ids[i],
      size: statSync(path).size,
    };
  });
  return {
    format: 'docker-archive',
    dir,
    configDigest,
    config,
    platform,
    layers,
    refNames: image.RepoTags ?? [],
  };
}

async function openDirectory(source: string, dir: string, opts: OpenImageOptions, limits: UnpackLimits) {
  if (existsSync(join(dir, 'index.json'))) return openOciLayout(source, dir, opts, limits);
  if (existsSync(join(dir, 'manifest.json'))) return openDockerArchive(source, dir, opts, limits);
  throw new OciError(
    'missing-layout',
    `${source}: not an OCI image layout (no index.json) nor a docker-save directory (no manifest.json)`,
  );
}

/** True if path looks like an image (layout dir, docker-save dir or image archive), not a root filesystem. */
export async function isImageSource(path: string): Promise<boolean> {
  if (!existsSync(path)) throw new OciError('missing-layout', `${path} does not exist`);
  if (statSync(path).isDirectory())
    return existsSync(join(path, 'index.json')) || existsSync(join(path, 'manifest.json'));
  return (await detectArchiveKind(path)) !== 'rootfs-tarball';
}

export async function openImage(source: string, opts: OpenImageOptions = {}): Promise<OpenedImage> {
  const limits: UnpackLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  if (!existsSync(source)) throw new OciError('missing-layout', `${source} does not exist`);
  if (statSync(source).isDirectory()) {
    return { source, ...(await openDirectory(source, source, opts, limits)), close: async () => undefined };
  }
  const kind = await detectArchiveKind(source);
  if (kind === 'rootfs-tarball') {
    throw new OciError('missing-layout', `${source} is a root filesystem tarball, not an image archive`);
  }
  const tmp = await mkdtemp(join(opts.tmpDir ?? tmpdir(), 'neonvm-oci-'));
  const close = () => rm(tmp, { recursive: true, force: true });
  try {
    await unpackImageArchive(source, tmp, new UnpackBudget(limits));
    return { source, ...(await openDirectory(source, tmp, opts, limits)), close };
  } catch (e) {
    await close();
    throw e;
  }
}

export interface UnpackOptions {
  readonly limits?: Partial<UnpackLimits>;
  readonly preserveOwnership?: boolean;
  /** Called before each layer is applied (progress lines). */
  readonly onLayer?: (index: number, count: number, layer: LayerBlob) => void;
}

export interface UnpackResult {
  readonly layers: readonly LayerStats[];
  readonly unpackedBytes: number;
  readonly entries: number;
}

/**
 * Applies the image's layers in order onto dest (which should be empty). Each layer blob is checked
 * against its digest before anything of it is written, and its uncompressed content against the
 * config's diff_id while it is applied.
 */
export async function unpackImage(
  image: OpenedImage,
  dest: string,
  opts: UnpackOptions = {},
): Promise<UnpackResult> {
  const budget = new UnpackBudget({ ...DEFAULT_LIMITS, ...opts.limits });
  const stats: LayerStats[] = [];
  for (const [i, layer] of image.layers.entries()) {
    opts.onLayer?.(i, image.layers.length, layer);
    const name = `layer ${i + 1}/${image.layers.length} (${layer.digest ?? basename(layer.path)})`;
    if (!existsSync(layer.path)) throw new OciError('missing-blob', `${name}: blob missing at ${layer.path}`);
    if (layer.digest) {
      const size = statSync(layer.path).size;
      if (size !== layer.size) {
        throw new OciError(
          'digest-mismatch',
          `${name}: blob is ${size} bytes, the manifest says ${layer.size}`,
        );
      }
      await verifyFileDigest(layer.path, layer.digest, name);
    }
    stats.push(
      await applyLayer(layer.path, dest, {
        name,
        mediaType: layer.mediaType,
        diffId: layer.diffId,
        budget,
        preserveOwnership: opts.preserveOwnership,
      }),
    );
  }
  return { layers: stats, unpackedBytes: budget.unpackedBytes, entries: budget.entryCount };
}
