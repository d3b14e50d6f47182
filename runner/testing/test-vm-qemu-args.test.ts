import { archInfo } from '../../guest';
import { testVmQemuArgs } from './test-vm-qemu-args';

describe('testVmQemuArgs', () => {
  const base = {
    arch: archInfo('amd64'),
    accel: { accel: 'tcg' as const, reason: '' },
    kernel: '/k',
    initramfs: '/i',
    rootDisk: '/d.qcow2',
    runtimeIso: '/r.iso',
    cpus: { boot: 1, max: 4 },
    memory: { baseMiB: 512, hotplugMiB: 1024 },
    qmpSocket: '/q.sock',
    forwards: [{ hostPort: 40000, guestPort: 25183 }],
    cmdline: 'console=ttyS0',
  };

  it('has hot-pluggable CPUs, a virtio-mem device vm0 and the disks in guest order', () => {
    const a = testVmQemuArgs(base).join(' ');
    expect(a).toContain('-smp cpus=1,maxcpus=4,sockets=1,cores=4,threads=1');
    expect(a).toContain('-m size=512M,maxmem=1536M');
    expect(a).toContain('-device virtio-mem-pci,id=vm0,memdev=vmem0,block-size=8M,requested-size=0');
    expect(a.indexOf('id=rootdisk')).toBeLessThan(a.indexOf('id=runtime'));
    expect(a).toContain('-netdev user,id=default,hostfwd=tcp:127.0.0.1:40000-:25183');
    expect(a).toContain('-accel tcg,thread=multi -cpu max');
  });

  it('omits virtio-mem when there is nothing to hot-plug', () => {
    const a = testVmQemuArgs({ ...base, memory: { baseMiB: 256, hotplugMiB: 0 } }).join(' ');
    expect(a).toContain('-m size=256M');
    expect(a).not.toContain('virtio-mem');
  });
});
