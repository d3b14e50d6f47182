/**
 * The static part of the guest root filesystem: directories, configuration files and the compat
 * symlinks. Binaries (busybox, dropbear, chrony, resize2fs, the agent) are added by the build.
 */
import { ArchInfo } from './arch';
import {
  blkidShim,
  inittab,
  resizeSwap,
  setDiskQuota,
  udhcpcEth0,
  udhcpcScript,
  vmshutdown,
  vminit,
  vmstart,
} from './guest-scripts';

export type FsEntry =
  | { readonly kind: 'dir'; readonly path: string; readonly mode?: number }
  | { readonly kind: 'file'; readonly path: string; readonly content: string; readonly mode?: number }
  | { readonly kind: 'symlink'; readonly path: string; readonly target: string };

const dirs: ReadonlyArray<readonly [string, number?]> = [
  ['neonvm'],
  ['neonvm/bin'],
  ['neonvm/lib'],
  ['neonvm/config'],
  ['neonvm/runtime'],
  ['etc'],
  ['etc/dropbear', 0o700],
  ['root', 0o700],
  ['root/.ssh', 0o700],
  ['mnt'],
  ['mnt/ssh'],
  ['proc', 0o555],
  ['sys', 0o555],
  ['dev'],
  ['run'],
  ['tmp', 0o1777],
  ['usr'],
  ['usr/lib'],
  ['var'],
  ['var/lib'],
  ['var/lib/chrony'],
  ['var/log'],
];

/**
 * Links every guest root filesystem needs, also one built from a user image (added there only where
 * the image has nothing at that path): dropbear runs `/usr/lib/sftp-server` for scp and sftp (the
 * path Debian's dropbear is built with), and quota tools look up mount points in /etc/mtab.
 */
export const GUEST_COMPAT_LINKS: ReadonlyArray<readonly [string, string]> = [
  ['usr/lib/sftp-server', '/neonvm/bin/sftp-server'],
  ['etc/mtab', '/proc/self/mounts'],
];

/**
 * This minimal root filesystem has no /bin of its own: the standard directories point at the
 * busybox applets so `ssh vm cat /proc/meminfo` and workloads using /bin/sh just work. A root
 * filesystem built from a user image keeps its own and only gets /neonvm.
 */
const compatLinks: ReadonlyArray<readonly [string, string]> = [
  ['bin', 'neonvm/bin'],
  ['sbin', 'neonvm/bin'],
  ['usr/bin', '../neonvm/bin'],
  ['usr/sbin', '../neonvm/bin'],
  ['var/run', '../run'],
  ['root/.ssh/authorized_keys', '/mnt/ssh/authorized_keys'],
  ...GUEST_COMPAT_LINKS,
];

const etcFiles: Readonly<Record<string, string>> = {
  // nobody: an unprivileged account for `su` (root is exempt from disk quotas, for one).
  'etc/passwd':
    'root:x:0:0:root:/root:/neonvm/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/neonvm/bin/false\n',
  'etc/group': 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n',
  // '*': no password login possible; public keys only (dropbear refuses '!'-locked accounts).
  'etc/shadow': 'root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n',
  'etc/shells': '/neonvm/bin/sh\n/neonvm/bin/ash\n',
  'etc/nsswitch.conf': 'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n',
  'etc/hosts': '127.0.0.1 localhost\n',
  'etc/resolv.conf': '',
  'etc/profile':
    'export PATH=/neonvm/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nexport HOME=/root\n',
};

export function rootfsLayout(arch: ArchInfo): FsEntry[] {
  const entries: FsEntry[] = dirs.map(([path, mode]) => ({ kind: 'dir', path, mode }));
  for (const [path, content] of Object.entries(etcFiles)) {
    entries.push({ kind: 'file', path, content, mode: path === 'etc/shadow' ? 0o600 : 0o644 });
  }
  entries.push({ kind: 'file', path: 'etc/inittab', content: inittab(arch) });
  const scripts: Record<string, string> = {
    vminit: vminit(),
    vmstart: vmstart(),
    vmshutdown: vmshutdown(),
    'udhcpc.script': udhcpcScript(),
    'udhcpc-eth0': udhcpcEth0(),
    blkid: blkidShim(),
    'resize-swap': resizeSwap(),
    'set-disk-quota': setDiskQuota(),
  };
  for (const [name, content] of Object.entries(scripts)) {
    entries.push({ kind: 'file', path: `neonvm/bin/${name}`, content, mode: 0o755 });
  }
  for (const [path, target] of compatLinks) entries.push({ kind: 'symlink', path, target });
  return entries;
}
