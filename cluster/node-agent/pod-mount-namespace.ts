import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, normalize } from 'node:path';

/**
 * Containers are host processes whose mounts are symlinks under their root ($NEONVM_POD_ROOT/P), so
 * plain tools run by `kubectl exec` would see the host's /etc/hosts, /mnt, /vm. Exec'd commands instead
 * run in a private mount namespace where each mount path, the pod's /etc/hosts and an ssh_config are
 * bind-mounted over the real paths — so `ssh guest-vm` and `screen /dev/pts/N` work as in a runner pod.
 * Nothing of this propagates to the host (unshare --propagation private).
 */

/** Top-level directories never covered by a tmpfs: the system needs what is in them. */
const SYSTEM_DIRS = new Set([
  '/bin',
  '/boot',
  '/dev',
  '/etc',
  '/home',
  '/lib',
  '/lib32',
  '/lib64',
  '/opt',
  '/proc',
  '/root',
  '/run',
  '/sbin',
  '/srv',
  '/sys',
  '/tmp',
  '/usr',
  '/var',
]);

export interface ExecMountPlan {
  /** Directories that get a fresh tmpfs first, so missing mount points can be created in them. */
  tmpfs: string[];
  /** source (host path) -> target (in-namespace path), parents before children. */
  binds: { source: string; target: string }[];
}

/**
 * Decides the namespace's mounts for a container root and its volume mount paths. A mount point that
 * exists on the host is covered directly; a missing one is created inside a tmpfs over its top-level
 * directory (/mnt, /vm), unless that is a system directory, in which case the mount is left out.
 */
export function planExecMounts(
  root: string,
  mountPaths: readonly string[],
  exists: (path: string) => boolean,
  extraFiles: readonly { source: string; target: string }[] = [],
): ExecMountPlan {
  const tmpfs = new Set<string>();
  const binds: { source: string; target: string }[] = [];
  for (const raw of mountPaths) {
    const target = normalize(raw).replace(/\/+$/, '');
    if (!target.startsWith('/') || target === '' || target.split('/').includes('..')) continue;
    const top = `/${target.split('/')[1]}`;
    if (!exists(target) && top !== target) {
      if (SYSTEM_DIRS.has(top)) continue;
      tmpfs.add(top);
    } else if (!exists(target) && SYSTEM_DIRS.has(top)) continue;
    binds.push({ source: join(root, target), target });
  }
  for (const file of extraFiles) if (exists(file.target)) binds.push(file);
  binds.sort((a, b) => a.target.split('/').length - b.target.split('/').length);
  return { tmpfs: [...tmpfs].sort(), binds };
}

function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The shell script run by `unshare --mount` before exec'ing the command ("$@"). A mount point that is
 * missing (inside a tmpfs) is created as a directory or an empty file, matching its source.
 */
export function execMountScript(plan: ExecMountPlan): string {
  const lines = ['set -e'];
  for (const dir of plan.tmpfs) lines.push(`mount -t tmpfs -o mode=755 neonvm-pod ${q(dir)}`);
  for (const { source, target } of plan.binds) {
    lines.push(
      `if [ -d ${q(source)} ]; then mkdir -p ${q(target)}; elif [ ! -e ${q(target)} ]; then touch ${q(target)}; fi`,
      `mount --bind ${q(source)} ${q(target)}`,
    );
  }
  lines.push('exec "$@"');
  return lines.join('\n');
}

/** What an ssh client in the pod needs (the upstream runner image ships the same ssh_config). */
export function podSshConfig(knownHosts: string): string {
  return [
    'Host *',
    '  StrictHostKeyChecking accept-new',
    // Per pod: each VM has its own host key under the same name guest-vm.
    `  UserKnownHostsFile ${knownHosts}`,
    '  IdentityFile /mnt/ssh/id_ed25519',
    '  LogLevel ERROR',
    '',
  ].join('\n');
}

/**
 * Top-level directories the container has under its root besides its mounts (the runner creates
 * $NEONVM_POD_ROOT/vm/runner, for example). System directories and /etc are not covered wholesale.
 */
export function rootDirectories(root: string): string[] {
  try {
    return readdirSync(root, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !e.name.startsWith('.') && !SYSTEM_DIRS.has(`/${e.name}`))
      .map((e) => `/${e.name}`);
  } catch {
    return [];
  }
}

/**
 * The pod's /etc/hosts, a copy of the host's, created before the container starts (the NeonVM runner
 * appends `guest-vm` to it) unless the container root already has one.
 */
export function seedPodHosts(root: string): string {
  const hosts = join(root, 'etc', 'hosts');
  if (!existsSync(hosts)) {
    mkdirSync(join(root, 'etc'), { recursive: true });
    copyFileSync('/etc/hosts', hosts);
  }
  return hosts;
}

/**
 * Prepares the files behind the namespace (the pod's /etc/hosts seeded from the host's, an ssh_config)
 * and returns the argv prefix that runs a command inside it. Called per exec, so directories the
 * container created since it started are included. Top-level tmpfs mount points missing on the
 * host (/vm) are created there as empty directories: a mount needs a directory to cover.
 */
export function podMountNamespacePrefix(root: string, mountPaths: readonly string[]): string[] {
  const hosts = seedPodHosts(root);
  const sshDir = join(root, '.neonvm-exec');
  mkdirSync(sshDir, { recursive: true });
  const sshConfig = join(sshDir, 'ssh_config');
  writeFileSync(sshConfig, podSshConfig(join(sshDir, 'known_hosts')));
  const paths = [...new Set([...rootDirectories(root), ...mountPaths])];
  const plan = planExecMounts(root, paths, existsSync, [
    { source: hosts, target: '/etc/hosts' },
    { source: sshConfig, target: '/etc/ssh/ssh_config' },
  ]);
  for (const dir of plan.tmpfs) if (!existsSync(dir)) mkdirSync(dir);
  for (const dir of plan.tmpfs)
    if (!statSync(dir).isDirectory()) throw new Error(`${dir} is not a directory`);
  return [
    'unshare',
    '--mount',
    '--propagation',
    'private',
    '--',
    'sh',
    '-c',
    execMountScript(plan),
    'neonvm-exec',
  ];
}
