/**
 * The builder's input, whatever its form, materialised as a root filesystem directory:
 *  - an image (OCI layout dir, docker-save dir or archive, tar of an OCI layout): layers applied;
 *  - a root filesystem tarball (optionally gzip'd): applied like a single layer;
 *  - a root filesystem directory: copied (owners and device nodes kept), never modified.
 */
import { existsSync, statSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { UnpackBudget } from '../oci/limits';
import { applyLayer } from '../oci/layer-apply';
import {
  isImageSource,
  openImage,
  OciError,
  Platform,
  RunConfig,
  runConfigOf,
  unpackImage,
  UnpackLimits,
  DEFAULT_LIMITS,
} from '../oci';
import { run } from '../../host';

export type SourceKind = 'image' | 'rootfs-dir' | 'rootfs-tarball';

export interface MaterializedSource {
  readonly kind: SourceKind;
  /** The image's platform; for plain root filesystems, the one asked for (default: host). */
  readonly platform: Platform;
  /** The image's process; plain root filesystems have none. */
  readonly run?: RunConfig;
  readonly description: string;
}

export interface MaterializeOptions {
  readonly platform?: Platform;
  /** Image name inside a layout/archive holding several. */
  readonly refName?: string;
  readonly limits?: Partial<UnpackLimits>;
  /** For temp dirs of archives; same filesystem as dest is best. */
  readonly tmpDir: string;
  readonly progress: (line: string) => void;
}

/**
 * A copy of a root filesystem directory. Hard links (`cp -al`) when source and dest share a
 * filesystem: 5× faster for a Debian tree, and safe because the guest overlay replaces files
 * (unlink + create) instead of writing into them. Otherwise a full `cp -a`.
 */
async function copyTree(source: string, dest: string): Promise<void> {
  try {
    await run(['cp', '-al', '--', source, dest]);
  } catch {
    await rm(dest, { recursive: true, force: true });
    await run(['cp', '-a', '--', source, dest]);
  }
}

export async function detectSourceKind(source: string): Promise<SourceKind> {
  if (!existsSync(source)) throw new OciError('missing-layout', `${source} does not exist`);
  if (await isImageSource(source)) return 'image';
  return statSync(source).isDirectory() ? 'rootfs-dir' : 'rootfs-tarball';
}

/** Fills dest (which must not exist yet) from source. */
export async function materializeSource(
  source: string,
  dest: string,
  defaultPlatform: Platform,
  opts: MaterializeOptions,
): Promise<MaterializedSource> {
  const kind = await detectSourceKind(source);
  if (kind === 'rootfs-dir') {
    await copyTree(source, dest);
    const platform = opts.platform ?? defaultPlatform;
    return { kind, platform, description: `root filesystem directory ${source}` };
  }
  await mkdir(dest, { recursive: true });
  if (kind === 'rootfs-tarball') {
    const budget = new UnpackBudget({ ...DEFAULT_LIMITS, ...opts.limits });
    await applyLayer(source, dest, { name: source, budget });
    const platform = opts.platform ?? defaultPlatform;
    return { kind, platform, description: `root filesystem tarball ${source}` };
  }
  const image = await openImage(source, {
    platform: opts.platform,
    refName: opts.refName,
    limits: opts.limits,
    tmpDir: opts.tmpDir,
  });
  try {
    await unpackImage(image, dest, {
      limits: opts.limits,
      onLayer: (i, n, layer) =>
        opts.progress(`  layer ${i + 1}/${n} ${layer.digest ?? ''} (${layer.size} bytes)`),
    });
    const ref = image.manifestDigest ?? image.configDigest;
    return {
      kind,
      platform: image.platform,
      run: runConfigOf(image.config),
      description: `${image.format} ${source} (${ref})`,
    };
  } finally {
    await image.close();
  }
}
