/**
 * QEMU's CPU cgroup (cgroup v1 `cpu` or v2 `cpu.max`): created next to the runner, QEMU moved in
 * after it starts (threads it creates later follow it), quota rewritten on every CPU change, removed
 * at exit. Needs a writable cgroup filesystem (upstream mounts the host's /sys/fs/cgroup into the
 * runner pod); without one the runner logs why and runs QEMU unlimited, as `-skip-cgroup-management`.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CPU_PERIOD_US, cpuQuotaUs, parseOwnCgroup, qemuCgroupDir, type OwnCgroup } from '../plan/cpu-cgroup';

export class QemuCpuCgroup {
  private constructor(
    readonly dir: string,
    private readonly version: 1 | 2,
  ) {}

  /** The cgroup, or a reason why there is none. */
  static async create(podName: string, mount = '/sys/fs/cgroup'): Promise<QemuCpuCgroup | string> {
    let own: OwnCgroup | undefined;
    try {
      own = parseOwnCgroup(await readFile('/proc/self/cgroup', 'utf8'));
    } catch (e) {
      return `cannot read /proc/self/cgroup: ${(e as Error).message}`;
    }
    if (!own) return 'no cpu cgroup in /proc/self/cgroup';
    const dir = qemuCgroupDir(own, podName, mount);
    // The runner's own cgroup directory must be there: no `recursive` mkdir, which on a mount that
    // is not a cgroup filesystem (a container's plain sysfs) can spin on ENOENT forever.
    if (!existsSync(join(dirname(dir), 'cgroup.procs')))
      return `${dirname(dir)} is not a cgroup directory (no writable cgroup filesystem mounted)`;
    try {
      if (own.version === 2) await enableV2CpuController(dirname(dir));
      await mkdirOnce(dir);
      const cg = new QemuCpuCgroup(dir, own.version);
      if (own.version === 1) await writeFile(join(dir, 'cpu.cfs_period_us'), String(CPU_PERIOD_US));
      return cg;
    } catch (e) {
      return `cannot create ${dir}: ${(e as Error).message}`;
    }
  }

  /** Limits QEMU to `milliCpu` CPUs of time. */
  async setCpu(milliCpu: number): Promise<void> {
    const quota = cpuQuotaUs(milliCpu);
    if (this.version === 2) await writeFile(join(this.dir, 'cpu.max'), `${quota} ${CPU_PERIOD_US}`);
    else await writeFile(join(this.dir, 'cpu.cfs_quota_us'), String(quota));
  }

  async addProcess(pid: number): Promise<void> {
    await writeFile(join(this.dir, 'cgroup.procs'), String(pid));
  }

  /** Removes the cgroup once QEMU is gone (a cgroup with processes cannot be removed). */
  async remove(): Promise<void> {
    if (existsSync(this.dir)) await rmdir(this.dir).catch(() => undefined);
  }
}

/**
 * cgroup v2 lets controllers be enabled for children only in a cgroup without processes of its own
 * ("no internal processes"): move the runner into a leaf `neonvm-runner` first, then enable `cpu`.
 */
async function enableV2CpuController(parent: string): Promise<void> {
  const control = join(parent, 'cgroup.subtree_control');
  if ((await readFile(control, 'utf8')).split(/\s+/).includes('cpu')) return;
  const leaf = join(parent, 'neonvm-runner');
  await mkdirOnce(leaf);
  await writeFile(join(leaf, 'cgroup.procs'), String(process.pid));
  await writeFile(control, '+cpu');
}

/** mkdir that accepts a leftover directory of an earlier run. */
async function mkdirOnce(dir: string): Promise<void> {
  await mkdir(dir).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'EEXIST') throw e;
  });
}
