import { cpuQuotaUs, parseOwnCgroup, qemuCgroupDir } from './cpu-cgroup';

describe('QEMU cpu cgroup plan', () => {
  it('finds the v1 cpu hierarchy, else the v2 path', () => {
    const v1 = '12:memory:/kubepods/pod1/abc\n4:cpu,cpuacct:/kubepods/pod1/abc\n0::/\n';
    expect(parseOwnCgroup(v1)).toEqual({
      version: 1,
      controllers: 'cpu,cpuacct',
      path: '/kubepods/pod1/abc',
    });
    expect(parseOwnCgroup('0::/kubepods.slice/pod1.slice/cri-x.scope\n')).toEqual({
      version: 2,
      path: '/kubepods.slice/pod1.slice/cri-x.scope',
    });
    expect(parseOwnCgroup('1:name=systemd:/\n')).toBeUndefined();
  });

  it('puts QEMU in a child of the runner cgroup', () => {
    expect(qemuCgroupDir({ version: 1, controllers: 'cpu', path: '/' }, 'vm-a')).toBe(
      '/sys/fs/cgroup/cpu/neonvm-qemu-vm-a',
    );
    expect(qemuCgroupDir({ version: 2, path: '/kubepods.slice/x.scope' }, 'vm-a')).toBe(
      '/sys/fs/cgroup/kubepods.slice/x.scope/neonvm-qemu-vm-a',
    );
  });

  it('gives cpus.use of CPU time per 100 ms period, at least the kernel minimum', () => {
    expect(cpuQuotaUs(250)).toBe(25_000);
    expect(cpuQuotaUs(1500)).toBe(150_000);
    expect(cpuQuotaUs(1)).toBe(1_000);
  });
});
