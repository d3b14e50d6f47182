/**
 * Tagging a written layout: one image index (the multi-platform image, tagged `<tag>`) plus each
 * platform's manifest tagged `<tag>-<arch>`. skopeo and registries take the index; `umoci unpack`,
 * which cannot choose a platform, takes a per-platform tag.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ANNOTATIONS,
  MEDIA_TYPES,
  blobRelPath,
  sha256Digest,
  type Descriptor,
  type ImageIndex,
} from '../image/oci';

export interface TaggedLayout {
  /** The image index: what a multi-platform pull by digest resolves. */
  readonly index: Descriptor;
  readonly manifests: readonly Descriptor[];
}

/** The index.json of a tagged layout, and the image index blob it points at. Pure. */
export function planTaggedIndex(
  manifests: readonly Descriptor[],
  tag: string,
  annotations: Readonly<Record<string, string>>,
): { readonly imageIndex: string; readonly layoutIndex: (indexDigest: Descriptor) => ImageIndex } {
  const bare = manifests.map((m) => ({
    mediaType: m.mediaType,
    digest: m.digest,
    size: m.size,
    platform: m.platform,
  }));
  const imageIndex = JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociIndex,
    manifests: bare,
    annotations,
  });
  return {
    imageIndex,
    layoutIndex: (index) => ({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociIndex,
      manifests: [
        { ...index, annotations: { [ANNOTATIONS.refName]: tag } },
        ...bare.map((m) => ({
          ...m,
          annotations: { [ANNOTATIONS.refName]: `${tag}-${m.platform?.architecture ?? 'unknown'}` },
        })),
      ],
    }),
  };
}

/** Rewrites `<dir>/index.json` as planned, writing the image index blob. */
export async function tagLayout(
  dir: string,
  manifests: readonly Descriptor[],
  tag: string,
  annotations: Readonly<Record<string, string>>,
): Promise<TaggedLayout> {
  const plan = planTaggedIndex(manifests, tag, annotations);
  const index: Descriptor = {
    mediaType: MEDIA_TYPES.ociIndex,
    digest: sha256Digest(plan.imageIndex),
    size: Buffer.byteLength(plan.imageIndex),
  };
  await writeFile(join(dir, blobRelPath(index.digest)), plan.imageIndex);
  await writeFile(join(dir, 'index.json'), JSON.stringify(plan.layoutIndex(index)));
  return { index, manifests };
}
