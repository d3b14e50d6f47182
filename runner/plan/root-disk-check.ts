/**
 * The root disk the init container copied out of `spec.guest.rootDisk.image` is user input: before
 * QEMU opens it, `qemu-img info -f qcow2` (format forced: a raw file is never probed into something
 * else) must show a standalone qcow2 — no backing file and no external data file, either of which
 * would make QEMU open a path of the image's choosing on the node.
 * Pure: judges `qemu-img info --output=json`.
 */

/** The parts of `qemu-img info --output=json` that matter here. */
export interface QemuImgInfo {
  readonly format?: string;
  readonly 'virtual-size'?: number;
  readonly 'backing-filename'?: string;
  readonly 'full-backing-filename'?: string;
  readonly 'format-specific'?: { readonly type?: string; readonly data?: { readonly 'data-file'?: string } };
}

export class RootDiskError extends Error {
  constructor(image: string, problem: string) {
    super(`spec.guest.rootDisk.image ${JSON.stringify(image)}: /disk.qcow2 ${problem}`);
    this.name = 'RootDiskError';
  }
}

/** The disk's virtual size, or a RootDiskError naming the image and what is wrong with its disk. */
export function checkRootDiskInfo(info: QemuImgInfo, image: string): bigint {
  if (info.format !== 'qcow2')
    throw new RootDiskError(image, `is ${info.format ?? 'of no known format'}, not qcow2`);
  const backing = info['full-backing-filename'] ?? info['backing-filename'];
  if (backing !== undefined)
    throw new RootDiskError(
      image,
      `names a backing file (${JSON.stringify(backing)}); a root disk must be a standalone qcow2 (qemu-img convert -O qcow2)`,
    );
  const dataFile = info['format-specific']?.data?.['data-file'];
  if (dataFile !== undefined)
    throw new RootDiskError(
      image,
      `names an external data file (${JSON.stringify(dataFile)}); a root disk must be a standalone qcow2`,
    );
  const size = info['virtual-size'];
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size <= 0)
    throw new RootDiskError(image, `has no valid virtual size (${String(size)})`);
  return BigInt(size);
}
