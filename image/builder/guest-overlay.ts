/**
 * Adds the NeonVM guest to a root filesystem directory: the /neonvm tree of the guest build (busybox
 * init and tools, the neonvmd agent, dropbear and sftp-server, chrony, e2fsprogs and quota tools,
 * with their own libraries so any libc or none works), /etc/inittab, the mount points, links and
 * files the guest's init expects, the workload definition from the image config and the image
 * spec's commands and files.
 */
import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import { chmod, copyFile, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { resolveInRoot } from '../oci/layer-paths';
import type { RunConfig } from '../oci';
import { GUEST_COMPAT_LINKS } from '../../guest';
import { run } from '../../host';
import { GuestFile, imageInittab, specScripts, workloadFiles } from './guest-config';
import type { ImageSpec } from './image-spec';
import { parsePasswd, resolveImageUser } from './passwd';

export interface GuestOverlayInput {
  readonly rootfs: string;
  /** The guest build's root filesystem (GuestArtifacts.rootfsDir). */
  readonly guestRootfs: string;
  readonly run?: RunConfig;
  readonly spec: ImageSpec;
  /** Base for relative `files[].hostPath` (the spec file's directory). */
  readonly specDir: string;
}

/** Directories the guest's init mounts on or writes to, with their modes. */
const GUEST_DIRS: ReadonlyArray<readonly [string, number]> = [
  ['proc', 0o555],
  ['sys', 0o555],
  ['dev', 0o755],
  ['run', 0o755],
  ['tmp', 0o1777],
  ['mnt', 0o755],
  ['mnt/ssh', 0o755],
  ['etc', 0o755],
  ['etc/dropbear', 0o700],
  ['var', 0o755],
  ['var/lib', 0o755],
  ['var/lib/chrony', 0o755],
  ['var/log', 0o755],
];

/** /etc files the guest needs; taken from the guest build only when the image has none. */
const ETC_DEFAULTS = ['passwd', 'group', 'shadow', 'nsswitch.conf', 'hosts', 'resolv.conf'];

/** The host path of a root-relative path, following the image's symlinks inside the root only. */
function inRoot(rootfs: string, rel: string): string {
  return join(
    rootfs,
    resolveInRoot(rel, {
      readlink: (p) => {
        try {
          return readlinkSync(join(rootfs, p));
        } catch {
          return undefined;
        }
      },
    }),
  );
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

async function writeGuestFile(rootfs: string, f: GuestFile): Promise<void> {
  const path = inRoot(rootfs, f.path);
  await mkdir(dirname(path), { recursive: true });
  await rm(path, { force: true });
  await writeFile(path, f.content);
  await chmod(path, f.mode);
}

export interface OverlayResult {
  /** The account the workload runs as (undefined: root). */
  readonly workloadUser?: string;
  readonly filesWritten: readonly string[];
}

export async function addGuestOverlay(input: GuestOverlayInput): Promise<OverlayResult> {
  const { rootfs, guestRootfs } = input;
  const written: string[] = [];

  // /neonvm is ours: replace whatever is there (rebuilding a VM image's own root filesystem).
  await rm(join(rootfs, 'neonvm'), { recursive: true, force: true });
  await run(['cp', '-a', '--', join(guestRootfs, 'neonvm'), join(rootfs, 'neonvm')]);

  for (const [dir, mode] of GUEST_DIRS) {
    const path = inRoot(rootfs, dir);
    if (!existsSync(path)) {
      await mkdir(path, { recursive: true });
      await chmod(path, mode);
    }
  }
  for (const name of ETC_DEFAULTS) {
    const path = inRoot(rootfs, `etc/${name}`);
    if (!exists(path)) {
      await copyFile(join(guestRootfs, 'etc', name), path);
      written.push(`/etc/${name}`);
    }
  }

  // /usr/lib/sftp-server (scp, sftp), /etc/mtab (quota tools): the image's own win.
  for (const [rel, target] of GUEST_COMPAT_LINKS) {
    const path = inRoot(rootfs, rel);
    if (!exists(path)) {
      await mkdir(dirname(path), { recursive: true });
      await symlink(target, path);
      written.push(`/${rel}`);
    }
  }

  // dropbear reads root's keys from ~/.ssh/authorized_keys; the runner mounts them on /mnt/ssh.
  const passwd = parsePasswd(await readFile(inRoot(rootfs, 'etc/passwd'), 'utf8'));
  const rootHome = (passwd.find((p) => p.uid === 0)?.home ?? '/root').replace(/^\/+/, '') || 'root';
  const sshDir = inRoot(rootfs, `${rootHome}/.ssh`);
  await mkdir(sshDir, { recursive: true, mode: 0o700 });
  await chmod(sshDir, 0o700);
  if (!exists(join(sshDir, 'authorized_keys'))) {
    await symlink('/mnt/ssh/authorized_keys', join(sshDir, 'authorized_keys'));
  }

  const guestInittab = await readFile(join(guestRootfs, 'etc/inittab'), 'utf8');
  const workloadUser = input.run ? resolveImageUser(input.run.user, passwd) : undefined;
  const files: GuestFile[] = [
    { path: 'etc/inittab', content: imageInittab(guestInittab, input.spec), mode: 0o644 },
    ...(input.run ? workloadFiles(input.run, workloadUser) : []),
    ...specScripts(input.spec),
  ];
  for (const f of files) {
    await writeGuestFile(rootfs, f);
    written.push(`/${f.path}`);
  }

  for (const f of input.spec.files ?? []) {
    const rel = f.filename.replace(/^\/+/, '');
    const dest = inRoot(rootfs, rel);
    await mkdir(dirname(dest), { recursive: true });
    await rm(dest, { force: true });
    if ('content' in f) await writeFile(dest, f.content, { mode: 0o644 });
    else await copyFile(isAbsolute(f.hostPath) ? f.hostPath : resolve(input.specDir, f.hostPath), dest);
    written.push(f.filename);
  }
  return { workloadUser, filesWritten: written };
}
