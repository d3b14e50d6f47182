import { runtimeIsoFiles, shellQuote } from './runtime-iso';

describe('shellQuote', () => {
  it('leaves safe words alone and single-quotes the rest', () => {
    expect(shellQuote('postgres')).toBe('postgres');
    expect(shellQuote('-c')).toBe('-c');
    expect(shellQuote('a b')).toBe("'a b'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote('')).toBe("''");
    expect(shellQuote('$HOME')).toBe("'$HOME'");
  });
});

describe('runtimeIsoFiles', () => {
  it('writes only the files that apply, in the formats the guest reads', () => {
    expect(
      runtimeIsoFiles({
        command: ['sh', '-c', 'echo "$GREETING"; sleep 1000'],
        env: { GREETING: "hello world's" },
        sysctl: ['vm.swappiness=10', 'kernel.core_pattern=core'],
        cpuScalingMode: 'SysfsScaling',
      }),
    ).toEqual({
      'command.sh': `sh -c 'echo "$GREETING"; sleep 1000'`,
      'env.sh': "export GREETING='hello world'\\''s'\n",
      'sysctl.conf': 'vm.swappiness=10\nkernel.core_pattern=core\n',
      'cpu-scaling-mode': 'SysfsScaling\n',
    });
    expect(runtimeIsoFiles({})).toEqual({});
  });

  it('rejects environment names the shell cannot export', () => {
    expect(() => runtimeIsoFiles({ env: { 'A-B': 'x' } })).toThrow(/invalid environment variable name/);
  });
});
