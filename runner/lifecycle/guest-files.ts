/**
 * Finds the kernel, initramfs and root disk. In a pod: `-kernelpath` (the kernel image copied by
 * the init container or baked into the runner image) and `/vm/images/rootdisk.qcow2` (the disk of
 * `spec.guest.rootDisk.image`, placed by the init container, used in place). A missing kernel falls
 * back to the built-in Debian guest's (ensureGuestArtifacts), the equivalent of upstream's kernel
 * baked into the runner image. A missing root disk is an error naming the image: booting another
 * disk than the one the VM names must be asked for (`-rootdisk-base=<qcow2>` or `=builtin`).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ensureGuestArtifacts, hostGuestArch, type GuestArch } from '../../guest';
import { BUILTIN_ROOT_DISK, type RootDiskInput } from '../plan/disks';
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
  /** `-rootdisk-base`: a qcow2 to overlay (host path), or BUILTIN_ROOT_DISK. */
  rootDiskBase?: string;
  /** `spec.guest.rootDisk.image`: the in-pod disk was copied out of it (named by errors about the disk). */
  rootDiskImage: string;
  /** Guest architecture for the built-in fallback (default: the host's). */
  arch?: GuestArch;
  progress: (line: string) => void;
}

export async function resolveGuestFiles(i: GuestFilesInput): Promise<GuestFiles> {
  const inPodDisk = join(i.imagesDir, 'rootdisk.qcow2');
  const needBuiltin = !existsSync(i.kernelPath) || i.rootDiskBase === BUILTIN_ROOT_DISK;
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
  if (i.rootDiskBase === BUILTIN_ROOT_DISK) {
    i.progress(`root disk: the runner's built-in guest disk (-rootdisk-base=${BUILTIN_ROOT_DISK})`);
    const base = builtin!.rootDisk;
    root = { path: base, mode: 'overlay', virtualSizeBytes: await imageVirtualSize(base) };
  } else if (i.rootDiskBase) {
    if (!existsSync(i.rootDiskBase)) throw new Error(`-rootdisk-base: ${i.rootDiskBase} does not exist`);
    root = {
      path: i.rootDiskBase,
      mode: 'overlay',
      virtualSizeBytes: await imageVirtualSize(i.rootDiskBase),
    };
  } else if (existsSync(inPodDisk)) {
    // User input: a standalone qcow2 or refused before QEMU opens it (root-disk-check.ts).
    root = {
      path: inPodDisk,
      mode: 'in-place',
      virtualSizeBytes: await checkedRootDiskSize(inPodDisk, i.rootDiskImage),
    };
  } else {
    throw new Error(
      `spec.guest.rootDisk.image ${JSON.stringify(i.rootDiskImage)}: no root disk at ${inPodDisk} ` +
        `(the runner pod's init container copies the image's /disk.qcow2 there); ` +
        `-rootdisk-base=<qcow2> or -rootdisk-base=${BUILTIN_ROOT_DISK} boots another disk`,
    );
  }
  return { kernel, initrd, root };
}
