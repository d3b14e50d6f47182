import { FlagError, parseRunnerFlags } from './flags';

describe('parseRunnerFlags', () => {
  it('accepts upstream Go-style flags', () => {
    const f = parseRunnerFlags([
      '-vmspec=H4sI',
      '-vmstatus',
      'H4sJ',
      '-kernelpath=/vm/images/vmlinuz',
      '-appendKernelCmdline=quiet a=b',
      '-cpu-scaling-mode=SysfsScaling',
      '-memhp-auto-movable-ratio=401',
      '-qemu-disk-cache-settings=cache=writeback',
      '-skip-cgroup-management',
      '-use-virtio-console=false',
      '--api-token-file=/vm/secrets/token',
    ]);
    expect(f).toMatchObject({
      vmspec: 'H4sI',
      vmstatus: 'H4sJ',
      kernelpath: '/vm/images/vmlinuz',
      appendKernelCmdline: 'quiet a=b',
      cpuScalingMode: 'SysfsScaling',
      memhpAutoMovableRatio: '401',
      qemuDiskCacheSettings: 'cache=writeback',
      skipCgroupManagement: true,
      useVirtioConsole: false,
      apiTokenFile: '/vm/secrets/token',
      networkMode: 'auto',
    });
  });
  it('keeps defaults', () => {
    expect(parseRunnerFlags([])).toMatchObject({
      kernelpath: '/vm/kernel/vmlinuz',
      qemuDiskCacheSettings: 'cache=none',
      apiPort: 0,
    });
  });
  it('rejects unknown flags, missing values and bad booleans like Go does', () => {
    expect(() => parseRunnerFlags(['-nope'])).toThrow(new FlagError('flag provided but not defined: -nope'));
    expect(() => parseRunnerFlags(['-vmspec'])).toThrow('flag needs an argument: -vmspec');
    expect(() => parseRunnerFlags(['-skip-cgroup-management=yes'])).toThrow('invalid boolean value');
    expect(() => parseRunnerFlags(['-api-port=x'])).toThrow('not an integer');
    expect(() => parseRunnerFlags(['positional'])).toThrow('unexpected argument');
  });
});
