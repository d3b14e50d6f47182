/**
 * A `docker save`-compatible tar of an OCI layout: the layout's files plus a manifest.json naming
 * config and layers by blob path (the format Docker ≥ 25 writes, which older `docker load` reads
 * too) and RepoTags. Deterministic like the layers.
 */
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import { blobRelPath } from './digest';
import { parseIndex, parseManifest } from './documents';
import { layerEntriesFromDir, canonicalLayerEntries, LayerEntry } from './layer-entries';
import { canonicalImageRef } from '../../cluster/image-store';
import { ANNOTATIONS } from './media-types';
import { OciError } from './errors';
import { packEntries } from './tar-pack';

export interface DockerArchiveOptions {
  /** Full references per manifest of index.json, e.g. [['neondatabase/vm-debian:11']]. */
  readonly repoTags: ReadonlyArray<readonly string[]>;
  readonly mtime?: Date;
}

export async function writeDockerArchive(
  layoutDir: string,
  out: string,
  opts: DockerArchiveOptions,
): Promise<void> {
  const index = parseIndex(await readFile(join(layoutDir, 'index.json'), 'utf8'), 'index.json');
  const images = [];
  const manifests = [];
  for (const [i, d] of index.manifests.entries()) {
    const m = parseManifest(
      await readFile(join(layoutDir, blobRelPath(d.digest)), 'utf8'),
      `manifest ${d.digest}`,
    );
    const tags = opts.repoTags[i] ?? [];
    images.push({
      Config: blobRelPath(m.config.digest),
      RepoTags: tags,
      Layers: m.layers.map((l) => blobRelPath(l.digest)),
    });
    // containerd's name annotation lets `docker load` (≥ 25, OCI path) tag the image too. Fully
    // qualified as Docker writes it: `ctr images import` stores the name verbatim, and the CRI looks
    // images up by the normalised name (`docker.io/library/...`) the kubelet asks for.
    manifests.push(
      tags[0]
        ? {
            ...d,
            annotations: { ...d.annotations, [ANNOTATIONS.containerdImageName]: canonicalImageRef(tags[0]) },
          }
        : d,
    );
  }
  if (images.length === 0) throw new OciError('invalid-document', `${layoutDir}: index.json lists no images`);
  const files = (await layerEntriesFromDir(layoutDir)).filter((e) => e.path !== 'index.json');
  const entries: LayerEntry[] = [
    ...files,
    { kind: 'file', path: 'index.json', content: JSON.stringify({ ...index, manifests }) },
    { kind: 'file', path: 'manifest.json', content: JSON.stringify(images) },
  ];
  await mkdir(dirname(out), { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  const pack = tar.pack();
  const written = pipeline(pack, createWriteStream(tmp));
  try {
    const links = entries.filter((e) => e.kind === 'symlink' || e.kind === 'hardlink');
    if (links.length > 0)
      throw new OciError('unsupported', `${links[0].path}: links do not belong in an image layout`);
    await packEntries(pack, canonicalLayerEntries(entries), opts.mtime ?? new Date(0));
    await written;
    await rename(tmp, out);
  } catch (e) {
    pack.destroy();
    await rm(tmp, { force: true });
    throw e;
  }
}
