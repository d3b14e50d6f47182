/**
 * A VM root disk as a container image, upstream's contract for `rootDisk.image`: `/disk.qcow2`, plus a
 * `sh` and `cp` for the runner pod's unprivileged init container (operator/pod/build-runner-pod.ts
 * INIT_SCRIPT: `cp /disk.qcow2 /vm/images/rootdisk.qcow2` as uid 36). Upstream's vm-builder puts the disk on Alpine; here the
 * userland is Debian's busybox-static for the disk's architecture, in a layer of its own (shared by
 * every disk image), then the disk. On the node agent the init container runs the host's tools and
 * only the disk matters; on a real node the image is all the container has.
 */
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ImageStore } from '../../cluster/image-store';
import { cacheRoot, ensureCacheDir } from '../../host';
import { busyboxUserland } from '../node-images';
import { hostPlatform, writeDockerArchive, writeImageLayout, type LayerEntry } from '../oci';
import { VM_DISK_FILE } from './vm-disk-store';

export async function diskImageLayers(
  qcow2: string,
  arch: string,
  cacheDir?: string,
): Promise<LayerEntry[][]> {
  return [
    await busyboxUserland(arch, cacheDir),
    [{ kind: 'host-file', path: VM_DISK_FILE, source: qcow2, size: statSync(qcow2).size, mode: 0o644 }],
  ];
}

/** A docker-save tar of an image and the reference it is tagged with inside the tar. */
export interface DiskImageArchive {
  readonly ref: string;
  readonly archive: string;
}

/**
 * The container image of a VM disk in the local image store (e.g. the Debian guest,
 * `neondatabase/vm-debian:11`), as a docker-save tar tagged `ref`: what a user pushes to a registry for
 * real nodes, and what the local real nodes import into containerd (no registry is reachable here).
 * Cached under ${NEONVM_CACHE}/node-images/, keyed by the disk's digest directory and the reference.
 */
export async function ensureVmDiskArchive(
  ref: string,
  store: ImageStore = new ImageStore(),
  cacheDir: string = cacheRoot(),
): Promise<DiskImageArchive> {
  const files = store.resolve(ref)?.files;
  if (!files || !existsSync(join(files, VM_DISK_FILE)))
    throw new Error(`${ref}: no VM disk in the local image store (${store.dir}); build it first`);
  const key = `vm-disk-${basename(files)}-${createHash('sha256').update(ref).digest('hex').slice(0, 12)}`;
  const dir = await ensureCacheDir(join(cacheDir, 'node-images', key), async (tmp) => {
    const layout = join(tmp, 'layout');
    await writeImageLayout(layout, [
      {
        platform: hostPlatform(),
        layers: await diskImageLayers(join(files, VM_DISK_FILE), hostPlatform().architecture, cacheDir),
        refName: ref.split(':').pop(),
      },
    ]);
    await writeDockerArchive(layout, join(tmp, 'image.tar'), { repoTags: [[ref]] });
    // The tar is what is imported; the layout would only double the disk space.
    await rm(layout, { recursive: true, force: true });
  });
  return { ref, archive: join(dir, 'image.tar') };
}
