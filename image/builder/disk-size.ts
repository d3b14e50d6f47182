/**
 * Sizing the ext4 root filesystem. Pure.
 *
 * mkfs.ext4 -d fails late and cryptically ("Could not allocate block") when the tree does not fit,
 * so the builder checks first, with a model of what ext4 spends besides file data: 4 KiB blocks
 * per file and directory, one 256-byte inode per 16 KiB of filesystem (mke2fs's default
 * inode_ratio), and the journal size mke2fs picks for the filesystem size.
 */

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
export const BLOCK_SIZE = 4096;
const INODE_RATIO = 16384;
const INODE_SIZE = 256;

export interface TreeUsage {
  /** Regular files, counted once per inode (hard links share). */
  readonly files: number;
  readonly dirs: number;
  readonly symlinks: number;
  readonly otherInodes: number;
  /** Sum of regular file sizes. */
  readonly bytes: number;
  /** Sum of file sizes rounded up to whole blocks, plus long symlink targets. */
  readonly blockBytes: number;
}

export function emptyUsage(): TreeUsage {
  return { files: 0, dirs: 0, symlinks: 0, otherInodes: 0, bytes: 0, blockBytes: 0 };
}

export function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

/** Journal size mke2fs chooses (ext2fs_default_journal_size), in bytes, for 4 KiB blocks. */
export function journalBytes(fsBytes: number): number {
  const blocks = fsBytes / BLOCK_SIZE;
  if (blocks < 2048) return 0;
  if (blocks < 32768) return 1024 * BLOCK_SIZE;
  if (blocks < 256 * 1024) return 4096 * BLOCK_SIZE;
  if (blocks < 512 * 1024) return 8192 * BLOCK_SIZE;
  if (blocks < 4096 * 1024) return 16384 * BLOCK_SIZE;
  if (blocks < 8192 * 1024) return 32768 * BLOCK_SIZE;
  if (blocks < 16384 * 1024) return 65536 * BLOCK_SIZE;
  if (blocks < 32768 * 1024) return 131072 * BLOCK_SIZE;
  return 262144 * BLOCK_SIZE;
}

function inodes(u: TreeUsage): number {
  return u.files + u.dirs + u.symlinks + u.otherInodes + 11; // + reserved inodes
}

/** Bytes the tree needs on an ext4 filesystem of fsBytes (data + metadata + journal). */
export function requiredBytes(u: TreeUsage, fsBytes: number): number {
  const inodeTables = (fsBytes / INODE_RATIO) * INODE_SIZE;
  // Bitmaps, group descriptors and superblock backups: ~2 blocks per 128 MiB group, plus slack.
  const groupMeta = Math.ceil(fsBytes / (128 * MiB)) * 3 * BLOCK_SIZE + 4 * MiB;
  return u.blockBytes + u.dirs * BLOCK_SIZE + inodeTables + journalBytes(fsBytes) + groupMeta;
}

export interface FitCheck {
  readonly fits: boolean;
  readonly requiredBytes: number;
  readonly reason?: string;
}

export function checkFits(u: TreeUsage, fsBytes: number): FitCheck {
  const need = requiredBytes(u, fsBytes);
  if (inodes(u) > fsBytes / INODE_RATIO) {
    return {
      fits: false,
      requiredBytes: need,
      reason: `${inodes(u)} files need more inodes than ${fsBytes / INODE_RATIO}`,
    };
  }
  return need <= fsBytes
    ? { fits: true, requiredBytes: need }
    : { fits: false, requiredBytes: need, reason: 'not enough space' };
}

/**
 * Size when the user gives none: the content plus a quarter for headroom, at least 256 MiB,
 * rounded up to 64 MiB. The guest grows the filesystem to the VM's disk size at boot (resize2fs).
 */
export function autoSize(u: TreeUsage): number {
  let size = Math.max(256 * MiB, roundUp(u.blockBytes * 1.25 + u.dirs * BLOCK_SIZE, 64 * MiB));
  while (!checkFits(u, size).fits) size += 64 * MiB;
  return size;
}

/**
 * `--size`: upstream's `1G`/`512M` (binary units, like mkfs.ext4) or a Kubernetes quantity
 * (`2Gi`, `1500Mi`). Bytes, a multiple of 4 KiB.
 */
export function parseDiskSize(s: string): number {
  const m = /^([0-9]+)(K|Ki|M|Mi|G|Gi|T|Ti)?$/.exec(s.trim());
  if (!m) throw new Error(`invalid size ${JSON.stringify(s)} (expected e.g. 2G, 512M, 2Gi)`);
  const unit = (m[2] ?? '').charAt(0);
  const mult = { '': 1, K: 1024, M: MiB, G: GiB, T: 1024 * GiB }[unit] ?? 1;
  const bytes = Number(m[1]) * mult;
  if (bytes < 16 * MiB) throw new Error(`size ${s} is too small for a root filesystem (minimum 16M)`);
  return roundUp(bytes, BLOCK_SIZE);
}
