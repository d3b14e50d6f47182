/**
 * Writing OCI image layouts: layers, config, manifest and an index (with reference-name
 * annotations and platforms), into a directory that appears complete or not at all. JSON documents
 * are written with a fixed key order, so identical inputs produce identical digests.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { blobRelPath, sha256Digest } from './digest';
import {
  ContainerConfig,
  Descriptor,
  HistoryEntry,
  ImageConfig,
  ImageIndex,
  ImageManifest,
  Platform,
} from './documents';
import { OciError } from './errors';
import { LayerEntry } from './layer-entries';
import { LayerWriteOptions, writeLayer } from './layer-writer';
import { ANNOTATIONS, MEDIA_TYPES } from './media-types';

export interface ImageInput {
  readonly platform: Platform;
  /** Layers bottom to top. */
  readonly layers: ReadonlyArray<readonly LayerEntry[]>;
  readonly config?: ContainerConfig;
  /** Per-layer history comments (`created_by`), optional. */
  readonly history?: readonly string[];
  /** Tag written as `org.opencontainers.image.ref.name` on the index entry. */
  readonly refName?: string;
  /** Manifest annotations (title, source, description...). */
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface LayoutWriteOptions extends LayerWriteOptions {
  /** Replace an existing layout at the destination (default: refuse). */
  readonly replace?: boolean;
  /** Annotations of index.json itself. */
  readonly indexAnnotations?: Readonly<Record<string, string>>;
}

export interface WrittenImage {
  readonly manifest: Descriptor;
  readonly configDigest: string;
  readonly layers: readonly Descriptor[];
  readonly diffIds: readonly string[];
}

export interface WrittenLayout {
  readonly dir: string;
  readonly images: readonly WrittenImage[];
}

/** JSON with a trailing newline; key order is the construction order (kept fixed below). */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value);
}

async function writeBlob(layoutDir: string, content: string, mediaType: string): Promise<Descriptor> {
  const digest = sha256Digest(content);
  const path = join(layoutDir, blobRelPath(digest));
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content);
  return { mediaType, digest, size: Buffer.byteLength(content) };
}

/** Omits undefined fields so they do not show up as keys. */
function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

async function writeImage(
  layoutDir: string,
  image: ImageInput,
  opts: LayoutWriteOptions,
): Promise<WrittenImage> {
  const layers = [];
  for (const entries of image.layers) layers.push(await writeLayer(layoutDir, entries, opts));
  const created = (opts.mtime ?? new Date(0)).toISOString();
  const history: HistoryEntry[] = image.layers.map((_, i) =>
    compact({ created, created_by: image.history?.[i] }),
  );
  const config: ImageConfig = compact({
    architecture: image.platform.architecture,
    os: image.platform.os,
    variant: image.platform.variant,
    created,
    config: image.config ? compact({ ...image.config }) : {},
    rootfs: { type: 'layers' as const, diff_ids: layers.map((l) => l.diffId) },
    history,
  });
  const configDesc = await writeBlob(layoutDir, canonicalJson(config), MEDIA_TYPES.ociConfig);
  const manifest: ImageManifest = compact({
    schemaVersion: 2 as const,
    mediaType: MEDIA_TYPES.ociManifest,
    config: configDesc,
    layers: layers.map((l) => l.descriptor),
    annotations:
      image.annotations && Object.keys(image.annotations).length > 0 ? { ...image.annotations } : undefined,
  });
  const manifestBlob = await writeBlob(layoutDir, canonicalJson(manifest), MEDIA_TYPES.ociManifest);
  const descriptor: Descriptor = compact({
    ...manifestBlob,
    annotations: image.refName ? { [ANNOTATIONS.refName]: image.refName } : undefined,
    platform: compact({ ...image.platform }),
  });
  return {
    manifest: descriptor,
    configDigest: configDesc.digest,
    layers: layers.map((l) => l.descriptor),
    diffIds: layers.map((l) => l.diffId),
  };
}

/**
 * Writes a layout with one image per platform (several → a multi-platform index) at `dir`. Built
 * in a temp sibling and renamed into place, so a failed write leaves nothing behind.
 */
export async function writeImageLayout(
  dir: string,
  images: readonly ImageInput[],
  opts: LayoutWriteOptions = {},
): Promise<WrittenLayout> {
  if (images.length === 0) throw new OciError('invalid-document', 'a layout needs at least one image');
  if (existsSync(dir) && !opts.replace) {
    throw new OciError('invalid-document', `${dir} already exists (pass replace to overwrite it)`);
  }
  await mkdir(dirname(dir), { recursive: true });
  const tmp = await mkdtemp(join(dirname(dir), `.${basename(dir)}.tmp-`));
  try {
    const written: WrittenImage[] = [];
    for (const image of images) written.push(await writeImage(tmp, image, opts));
    const index: ImageIndex = compact({
      schemaVersion: 2 as const,
      mediaType: MEDIA_TYPES.ociIndex,
      manifests: written.map((w) => w.manifest),
      annotations:
        opts.indexAnnotations && Object.keys(opts.indexAnnotations).length > 0
          ? { ...opts.indexAnnotations }
          : undefined,
    });
    await writeFile(join(tmp, 'oci-layout'), canonicalJson({ imageLayoutVersion: '1.0.0' }));
    await writeFile(join(tmp, 'index.json'), canonicalJson(index));
    if (existsSync(dir)) await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir);
    return { dir, images: written };
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}
