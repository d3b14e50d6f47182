/**
 * The digests of built images, read from their OCI layouts (`dist/images/<name>/index.json`), as
 * the install bundle's image references.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseIndex } from '../image/oci';
import { ANNOTATIONS } from '../image/oci';
import {
  releaseImages,
  type ReleaseImageDigests,
  type ReleaseImageRefs,
} from '../constructs/install/release-images';

/**
 * The digest tagged `tag` in a layout (default: the one entry without a `-<arch>` suffix — the
 * multi-platform index build:images writes).
 */
export async function layoutDigest(layoutDir: string, tag?: string): Promise<string> {
  const file = join(layoutDir, 'index.json');
  const index = parseIndex(await readFile(file, 'utf8'), file);
  const hit = index.manifests.find((m) => {
    const ref = m.annotations?.[ANNOTATIONS.refName];
    return tag ? ref === tag : ref !== undefined && !/-(amd64|arm64)$/.test(ref);
  });
  if (!hit) throw new Error(`${file}: no image tagged ${tag ?? '<version>'}`);
  return hit.digest;
}

export async function readImageDigests(imagesDir: string): Promise<ReleaseImageDigests> {
  return {
    operator: await layoutDigest(join(imagesDir, 'operator')),
    runner: await layoutDigest(join(imagesDir, 'runner')),
    devicePlugin: await layoutDigest(join(imagesDir, 'device-plugin')),
  };
}

/** `{ image, runnerImage, devicePluginImage }` for NeonVmInstallOptions from a dist/images directory. */
export async function imageRefsFromDist(imagesDir: string, registry: string): Promise<ReleaseImageRefs> {
  return releaseImages({ registry, digests: await readImageDigests(imagesDir) });
}
