import { archInfo } from './arch';
import { guestKernelCmdline, hostLoopsPerJiffy, parseCpuMhz } from './kernel-cmdline';

describe('guestKernelCmdline', () => {
  const x86 = archInfo('amd64');

  it('boots /neonvm/bin/init from /dev/vda with memory hotplug onlining', () => {
    const c = guestKernelCmdline({ arch: x86 });
    expect(c).toBe(
      'panic=-1 init=/neonvm/bin/init root=/dev/vda rw loglevel=4 memhp_default_state=online ' +
        'memory_hotplug.online_policy=auto-movable memory_hotplug.auto_movable_ratio=401 console=ttyS0',
    );
  });

  it('limits boot CPUs in SysfsScaling mode and requires the count', () => {
    expect(guestKernelCmdline({ arch: x86, cpuScalingMode: 'SysfsScaling', bootCpus: 1 })).toContain(
      ' maxcpus=1 ',
    );
    expect(() => guestKernelCmdline({ arch: x86, cpuScalingMode: 'SysfsScaling' })).toThrow(/bootCpus/);
    expect(guestKernelCmdline({ arch: x86, cpuScalingMode: 'QmpScaling', bootCpus: 1 })).not.toContain(
      'maxcpus',
    );
  });

  it('uses the arch serial console and appends extras last', () => {
    const c = guestKernelCmdline({ arch: archInfo('arm64'), hostname: 'vm-a', extra: ['quiet'] });
    expect(c).toContain('hostname=vm-a');
    expect(c.endsWith('acpi=on console=ttyAMA0 quiet')).toBe(true);
  });
});

describe('loops per jiffy', () => {
  const cpuinfo = 'processor\t: 0\nmodel name\t: Some CPU\ncpu MHz\t\t: 2596.701\ncache size\t: 1 KB\n';

  it('reads the host clock and converts to cycles per jiffy', () => {
    expect(parseCpuMhz(cpuinfo)).toBe(2596.701);
    // What the guest printed for its boot CPU: "5193.40 BogoMIPS (lpj=10386804)" with HZ=250.
    expect(hostLoopsPerJiffy(250, cpuinfo)).toBe(10386804);
    expect(hostLoopsPerJiffy(250, 'processor: 0\n')).toBeUndefined();
  });

  it('puts lpj on the command line', () => {
    expect(guestKernelCmdline({ arch: archInfo('amd64'), lpj: 10386804 })).toContain(' lpj=10386804 ');
  });
});
