/**
 * The cgroup root of one real node (the kubelet's `cgroupRoot`). The kubelet with the cgroupfs driver
 * requires the root to exist in every cgroup v1 hierarchy; it then creates kubepods/ below it, and runc
 * puts each container under its pod. The root is created here and removed bottom-up at stop, which
 * only succeeds once every process in it is gone: so the same walk is the leak check. Works on cgroup v1
 * (this machine: one mount per controller plus the `unified` v2 hierarchy that runc also writes in
 * hybrid mode) and on a pure v2 host.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Mount points of cgroup hierarchies (v1 and v2) from /proc/self/mountinfo. Pure. */
export function parseCgroupMounts(mountinfo: string): string[] {
  const out: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const fstype = line.slice(sep + 3).split(' ')[0];
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    out.push(line.slice(0, sep).split(' ')[4]);
  }
  return out;
}

export function cgroupMounts(): string[] {
  return parseCgroupMounts(readFileSync('/proc/self/mountinfo', 'utf8'));
}

/** Every directory below (and including) `dir`, deepest first. */
function subtreeDeepestFirst(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true }))
    if (e.isDirectory()) out.push(...subtreeDeepestFirst(join(dir, e.name)));
  out.push(dir);
  return out;
}

export class NodeCgroups {
  constructor(
    /** The kubelet's cgroupRoot, e.g. `/neonvm-s0-real-1`. */
    readonly root: string,
    private readonly mounts: readonly string[] = cgroupMounts(),
  ) {
    if (!/^\/[A-Za-z0-9._-]+$/.test(root))
      throw new Error(`cgroup root ${root}: one path component expected`);
  }

  /** Creates the root in every hierarchy; a cpuset root gets its parent's CPUs and memory nodes. */
  create(): void {
    for (const m of this.mounts) {
      const dir = join(m, this.root);
      mkdirSync(dir, { recursive: true });
      for (const f of ['cpuset.cpus', 'cpuset.mems']) {
        const own = join(dir, f);
        if (existsSync(own) && readFileSync(own, 'utf8').trim() === '')
          writeFileSync(own, readFileSync(join(m, f), 'utf8'));
      }
    }
  }

  /** PIDs in any cgroup under the root, in any hierarchy. */
  processes(): number[] {
    const pids = new Set<number>();
    for (const m of this.mounts)
      for (const dir of subtreeDeepestFirst(join(m, this.root))) {
        try {
          for (const p of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n'))
            if (p.trim()) pids.add(Number(p));
        } catch {
          // removed meanwhile
        }
      }
    return [...pids];
  }

  /** Removes the whole subtree; returns the directories that could not be removed (still in use). */
  remove(): string[] {
    const left: string[] = [];
    for (const m of this.mounts)
      for (const dir of subtreeDeepestFirst(join(m, this.root))) {
        try {
          rmdirSync(dir);
        } catch {
          if (existsSync(dir)) left.push(dir);
        }
      }
    return left;
  }

  /** Directories of the subtree that still exist. */
  remaining(): string[] {
    return this.mounts.flatMap((m) => subtreeDeepestFirst(join(m, this.root)));
  }
}
