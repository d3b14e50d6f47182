/**
 * The root disk: `mkfs.ext4 -d` builds the filesystem from the directory (no loop mount, no root
 * needed for the filesystem itself) into a sparse raw file, `qemu-img convert` turns it into qcow2
 * with upstream's options (2 MiB clusters, lazy refcounts).
 */
import { rm } from 'node:fs/promises';
import { run } from '../../host';

export const ROOT_FS_LABEL = 'vmroot';

export async function makeExt4(rootfs: string, raw: string, sizeBytes: number): Promise<void> {
  try {
    await run([
      'mkfs.ext4',
      '-q',
      '-F',
      '-L',
      ROOT_FS_LABEL,
      '-b',
      '4096',
      '-E',
      'root_owner=0:0',
      '-d',
      rootfs,
      raw,
      `${Math.floor(sizeBytes / 1024)}k`,
    ]);
  } catch (e) {
    await rm(raw, { force: true });
    const msg = (e as Error).message;
    if (/Could not allocate block|No space left|inode/i.test(msg)) {
      throw new Error(
        `the root filesystem does not fit in ${Math.round(sizeBytes / 1024 ** 2)} MiB: pass a larger --size (${msg})`,
      );
    }
    throw e;
  }
}

export async function convertToQcow2(raw: string, qcow2: string): Promise<void> {
  await run([
    'qemu-img',
    'convert',
    '-q',
    '-f',
    'raw',
    '-O',
    'qcow2',
    '-o',
    'cluster_size=2M,lazy_refcounts=on',
    raw,
    qcow2,
  ]);
}
