/**
 * Where QEMU's CPU cgroup goes and what limits it (pure; runner/pod-resources/cpu-cgroup.ts writes the files).
 * Upstream §4.6: a child `neonvm-qemu-<pod>` of the runner's own cgroup, CFS period 100 ms. Unlike
 * upstream, whose quota is set once at start, the quota follows `cpus.use` on every change, so a
 * VM at 250m gets a quarter of a CPU of time, whatever number of vCPUs its guest has online.
 */

export const CPU_PERIOD_US = 100_000;
/** The kernel refuses CFS quotas below 1 ms. */
const MIN_QUOTA_US = 1_000;

export type OwnCgroup =
  | { readonly version: 1; readonly controllers: string; readonly path: string }
  | { readonly version: 2; readonly path: string };

/**
 * The runner's cgroup from /proc/self/cgroup: the v1 hierarchy that has the `cpu` controller
 * (`4:cpu,cpuacct:/kubepods/...`), else the v2 entry (`0::/kubepods.slice/...`).
 */
export function parseOwnCgroup(procSelfCgroup: string): OwnCgroup | undefined {
  let v2: string | undefined;
  for (const line of procSelfCgroup.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    const [, id, controllers, path] = m;
    if (id === '0' && controllers === '') v2 = path;
    else if (controllers.split(',').includes('cpu')) return { version: 1, controllers, path };
  }
  return v2 === undefined ? undefined : { version: 2, path: v2 };
}

/** Directory of QEMU's cgroup under the cgroup mount (`/sys/fs/cgroup`). */
export function qemuCgroupDir(own: OwnCgroup, podName: string, mount = '/sys/fs/cgroup'): string {
  const self = own.path === '/' ? '' : own.path;
  const hierarchy = own.version === 1 ? `/${own.controllers}` : '';
  return `${mount}${hierarchy}${self}/neonvm-qemu-${podName}`;
}

/** CFS quota (µs per CPU_PERIOD_US) for `milliCpu` CPUs of time. */
export function cpuQuotaUs(milliCpu: number, periodUs = CPU_PERIOD_US): number {
  return Math.max(MIN_QUOTA_US, Math.round((milliCpu * periodUs) / 1000));
}
