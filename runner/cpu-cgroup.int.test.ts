/**
 * Fractional CPUs with real QEMU: the runner puts QEMU (all its threads) in a CPU cgroup whose quota
 * is cpus.use, and moves the quota on every /cpu_change (upstream sets it once at start). Needs root
 * and a writable cgroup filesystem (v1 `cpu` or v2 `cpu.max`).
 */
import { describeIf } from '../host/testing';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseOwnCgroup, qemuCgroupDir } from './plan/cpu-cgroup';
import { RunnerHarness } from './testing/runner-harness';
import { builtinGuest } from '../crds/testing';

const own = (() => {
  try {
    return parseOwnCgroup(readFileSync('/proc/self/cgroup', 'utf8'));
  } catch {
    return undefined;
  }
})();
const canRun = process.getuid?.() === 0 && own !== undefined;
const suite = describeIf(
  canRun,
  own === undefined ? 'no cgroup v2 hierarchy in /proc/self/cgroup' : 'needs root (creates cgroups)',
);
jest.setTimeout(300_000);

suite('runner CPU cgroup (fractional cpus.use)', () => {
  const h = new RunnerHarness();
  beforeAll(() => h.init());
  afterAll(() => h.stopAll());

  it('limits QEMU to cpus.use of CPU time and follows CPU changes', async () => {
    const name = 'vmc-cgroup';
    const dir = qemuCgroupDir(own!, name);
    const quota = (): number =>
      own!.version === 2
        ? Number(readFileSync(join(dir, 'cpu.max'), 'utf8').split(' ')[0])
        : Number(readFileSync(join(dir, 'cpu.cfs_quota_us'), 'utf8'));
    const r = h.start({
      name,
      ip: '127.0.0.7',
      cpuCgroup: true,
      spec: {
        guest: builtinGuest({ min: 0.25, max: 2, use: 0.5 }),
      },
    });
    await h.waitReady(r, 240_000);
    const qemuPid = r.info().qemuPid;
    // every QEMU thread (vCPUs included) is in the VM's cgroup
    expect(readFileSync(`/proc/${qemuPid}/cgroup`, 'utf8')).toContain(`/neonvm-qemu-${name}`);
    const tasks = readFileSync(join(dir, own!.version === 2 ? 'cgroup.threads' : 'tasks'), 'utf8');
    expect(tasks.trim().split('\n').length).toBeGreaterThan(1);
    expect(quota()).toBe(50_000);
    // Booting at half a CPU under a 100 ms period: the kernel throttled QEMU.
    const throttled = /nr_throttled (\d+)/.exec(readFileSync(join(dir, 'cpu.stat'), 'utf8'));
    expect(Number(throttled?.[1])).toBeGreaterThan(0);

    await r.client.setCpu(1500);
    expect(quota()).toBe(150_000);
    expect(await r.client.getCpu()).toBe(1500);
    await r.client.setCpu(250);
    expect(quota()).toBe(25_000);

    r.child.kill('SIGTERM');
    expect(await r.exited).toBe(0);
    expect(existsSync(dir)).toBe(false);
  });
});
