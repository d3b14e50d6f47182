/**
 * Finds the kernel, initramfs and root disk. In a pod: `-kernelpath` (the kernel image copied by
 * the init container or baked into the runner image) and `/vm/images/rootdisk.qcow2` (the VM's
 * disk, used in place). Whatever is absent falls back to the built-in Debian guest
 * (ensureGuestArtifacts), the equivalent of upstream's kernel baked into the runner image.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ensureGuestArtifacts, hostGuestArch, type GuestArch } from '../../guest';
import type { RootDiskInput } from '../plan/disks';
import { checkedRootDiskSize, imageVirtualSize } from '../pod-resources/disk-builder';

export interface GuestFiles {
  kernel: string;
  initrd?: string;
  root: RootDiskInput;
}

export interface GuestFilesInput {
  kernelPath: string;
  initrdPath?: string;
  imagesDir: string;
  rootDiskBase?: string;
  /** `spec.guest.rootDisk.image`: the in-pod disk was copied out of it (named by errors about the disk). */
  rootDiskImage: string;
  /** Guest architecture for the built-in fallback (default: the host's). */
  arch?: GuestArch;
  progress: (line: string) => void;
}

export async function resolveGuestFiles(i: GuestFilesInput): Promise<GuestFiles> {
  const inPodDisk = join(i.imagesDir, 'rootdisk.qcow2');
  const needBuiltin = !existsSync(i.kernelPath) || (!existsSync(inPodDisk) && !i.rootDiskBase);
  const builtin = needBuiltin
    ? await ensureGuestArtifacts({ arch: i.arch ?? hostGuestArch(), progress: i.progress })
    : undefined;

  let kernel = i.kernelPath;
  let initrd = i.initrdPath;
  if (!existsSync(kernel)) {
    // The built-in kernel goes with its own initramfs (modules of exactly that kernel).
    kernel = builtin!.kernel;
    initrd = builtin!.initramfs;
  } else if (!initrd) {
    const sibling = join(dirname(kernel), 'initramfs.cpio.gz');
    if (existsSync(sibling)) initrd = sibling;
  }

  let root: RootDiskInput;
  if (i.rootDiskBase)
    root = {
      path: i.rootDiskBase,
      mode: 'overlay',
      virtualSizeBytes: await imageVirtualSize(i.rootDiskBase),
    };
  else if (existsSync(inPodDisk))
    // User input: a standalone qcow2 or refused before QEMU opens it (root-disk-check.ts).
    root = {
      path: inPodDisk,
      mode: 'in-place',
      virtualSizeBytes: await checkedRootDiskSize(inPodDisk, i.rootDiskImage),
    };
  else
    root = {
      path: builtin!.rootDisk,
      mode: 'overlay',
      virtualSizeBytes: await imageVirtualSize(builtin!.rootDisk),
    };
  return { kernel, initrd, root };
}
