/**
 * A minimal writer for the "newc" cpio format the kernel unpacks as an initramfs. Written here
 * rather than shelling out to cpio so every entry is owned by root regardless of who builds, and
 * the output is byte-for-byte reproducible (fixed mtimes, inode numbers in entry order).
 */
export type CpioEntry =
  | { readonly kind: 'dir'; readonly path: string; readonly mode?: number }
  | { readonly kind: 'file'; readonly path: string; readonly data: Buffer; readonly mode?: number }
  | { readonly kind: 'symlink'; readonly path: string; readonly target: string }
  | {
      readonly kind: 'chardev';
      readonly path: string;
      readonly major: number;
      readonly minor: number;
      readonly mode?: number;
    };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

function header(
  ino: number,
  mode: number,
  nlink: number,
  size: number,
  name: string,
  rdev: readonly [number, number] = [0, 0],
): Buffer {
  const nameBytes = Buffer.from(name + '\0');
  const fields = [
    '070701',
    hex8(ino),
    hex8(mode),
    hex8(0), // uid
    hex8(0), // gid
    hex8(nlink),
    hex8(0), // mtime
    hex8(size),
    hex8(0), // devmajor
    hex8(0), // devminor
    hex8(rdev[0]), // rdevmajor
    hex8(rdev[1]), // rdevminor
    hex8(nameBytes.length),
    hex8(0), // check
  ].join('');
  const head = Buffer.concat([Buffer.from(fields, 'ascii'), nameBytes]);
  return Buffer.concat([head, Buffer.alloc(pad4(head.length))]);
}

function withPadding(data: Buffer): Buffer {
  return Buffer.concat([data, Buffer.alloc(pad4(data.length))]);
}

/** Serialises entries (paths relative, without leading '/'; parents must come before children). */
export function writeCpio(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  entries.forEach((e, i) => {
    const ino = i + 1;
    const path = e.path.replace(/^\/+/, '');
    switch (e.kind) {
      case 'dir':
        parts.push(header(ino, S_IFDIR | (e.mode ?? 0o755), 2, 0, path));
        break;
      case 'file':
        parts.push(header(ino, S_IFREG | (e.mode ?? 0o644), 1, e.data.length, path), withPadding(e.data));
        break;
      case 'chardev':
        parts.push(header(ino, S_IFCHR | (e.mode ?? 0o600), 1, 0, path, [e.major, e.minor]));
        break;
      case 'symlink': {
        const target = Buffer.from(e.target);
        parts.push(header(ino, S_IFLNK | 0o777, 1, target.length, path), withPadding(target));
        break;
      }
    }
  });
  parts.push(header(0, 0, 1, 0, 'TRAILER!!!'));
  return Buffer.concat(parts);
}
