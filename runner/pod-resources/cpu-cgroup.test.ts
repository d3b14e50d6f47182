import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QemuCpuCgroup } from './cpu-cgroup';

describe('QemuCpuCgroup.create', () => {
  it('gives a reason (and does not hang) when the mount is not a cgroup filesystem', async () => {
    // e.g. a container whose /sys/fs/cgroup is a plain directory of a fresh sysfs
    const mount = mkdtempSync(join(tmpdir(), 'neonvm-not-cgroup-'));
    try {
      const result = await QemuCpuCgroup.create('vm-x', mount);
      expect(typeof result).toBe('string');
      expect(result).toMatch(/not a cgroup directory|no cpu cgroup/);
    } finally {
      rmSync(mount, { recursive: true, force: true });
    }
  });
});
