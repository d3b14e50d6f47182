import { encodeGzipBase64 } from '../../crds';
import { parseRunnerFlags } from './flags';
import { ConfigError, resolveRunnerConfig } from './runner-config';

const spec = {
  guest: {
    rootDisk: { image: 'img' },
    cpus: { min: 1, max: 2, use: 1 },
    memorySlots: { min: 1, max: 2, use: 1 },
  },
};

describe('resolveRunnerConfig', () => {
  it('decodes, defaults and resolves paths under the pod root', () => {
    const flags = parseRunnerFlags([
      `-vmspec=${encodeGzipBase64(spec)}`,
      `-vmstatus=${encodeGzipBase64({ cpus: 2 })}`,
      '-memhp-auto-movable-ratio=301',
    ]);
    const c = resolveRunnerConfig(flags, {
      K8S_POD_NAME: 'vm1-abcde',
      NEONVM_POD_ROOT: '/pods/x',
      RECEIVE_MIGRATION: 'true',
      POD_IP: '10.244.0.9',
    });
    expect(c.podName).toBe('vm1-abcde');
    expect(c.receiveMigration).toBe(true);
    expect(c.kernelPath).toBe('/pods/x/vm/kernel/vmlinuz');
    expect(c.paths.images).toBe('/pods/x/vm/images');
    expect(c.paths.qmpSocket).toBe('/pods/x/vm/runner/qmp.sock');
    expect(c.tokenFile).toBe('/pods/x/vm/secrets/runner-token');
    expect(c.shape.vcpus.use).toBe(2);
    expect(c.spec.guest.memorySlotSize).toBe('1Gi');
    expect(c.podIp).toBe('10.244.0.9');
    expect(c.apiPort).toBe(25183);
  });
  it('resolves the token file from the pod spec env under the pod root (the operator mounts a Secret there)', () => {
    const flags = parseRunnerFlags([`-vmspec=${encodeGzipBase64(spec)}`, '-memhp-auto-movable-ratio=301']);
    const c = resolveRunnerConfig(flags, {
      K8S_POD_NAME: 'vm1-abcde',
      NEONVM_POD_ROOT: '/pods/x',
      NEONVM_RUNNER_TOKEN_FILE: '/vm/secrets/runner-token',
    });
    expect(c.tokenFile).toBe('/pods/x/vm/secrets/runner-token');
  });
  it('reads the migration tuning (defaults: no xbzrle or compression, 50 ms downtime limit) and refuses bad values naming the flag', () => {
    const base = [`-vmspec=${encodeGzipBase64(spec)}`, '-memhp-auto-movable-ratio=301'];
    expect(resolveRunnerConfig(parseRunnerFlags(base), {}).migrationTuning).toEqual({
      xbzrle: false,
      xbzrleCacheBytes: 268435456,
      compression: 'none',
      threads: 2,
      zeroBlocks: false,
      downtimeLimitMs: 50,
    });
    const tuned = parseRunnerFlags([
      ...base,
      '-migration-xbzrle',
      '-migration-xbzrle-cache-size=64Mi',
      '-migration-compression=multifd-zstd',
      '-migration-threads=4',
      '-migration-zero-blocks=true',
      '-migration-downtime-limit=50',
    ]);
    expect(resolveRunnerConfig(tuned, {}).migrationTuning).toEqual({
      xbzrle: true,
      xbzrleCacheBytes: 64 * 1024 * 1024,
      compression: 'multifd-zstd',
      threads: 4,
      zeroBlocks: true,
      downtimeLimitMs: 50,
    });
    expect(() => resolveRunnerConfig(parseRunnerFlags([...base, '-migration-compression=lz4']), {})).toThrow(
      /-migration-compression must be one of none, compress/,
    );
    expect(() =>
      resolveRunnerConfig(parseRunnerFlags([...base, '-migration-xbzrle-cache-size=lots']), {}),
    ).toThrow(/-migration-xbzrle-cache-size/);
    expect(() => resolveRunnerConfig(parseRunnerFlags([...base, '-migration-downtime-limit=0']), {})).toThrow(
      /-migration-downtime-limit must be an integer number of ms in \[1, 2000000\], not 0/,
    );
  });

  it('keeps -rootdisk-base=builtin as is and resolves a path under the pod root', () => {
    const base = [`-vmspec=${encodeGzipBase64(spec)}`, '-memhp-auto-movable-ratio=301'];
    const env = { NEONVM_POD_ROOT: '/pods/x' };
    expect(resolveRunnerConfig(parseRunnerFlags([...base, '-rootdisk-base=builtin']), env).rootDiskBase).toBe(
      'builtin',
    );
    expect(
      resolveRunnerConfig(parseRunnerFlags([...base, '-rootdisk-base=/vm/base.qcow2']), env).rootDiskBase,
    ).toBe('/pods/x/vm/base.qcow2');
    expect(resolveRunnerConfig(parseRunnerFlags(base), env).rootDiskBase).toBeUndefined();
  });

  it('rejects an invalid spec with field paths, and a missing ratio', () => {
    const bad = { guest: { rootDisk: { image: 'img' }, cpus: { min: 2, max: 1, use: 1 } } };
    expect(() =>
      resolveRunnerConfig(
        parseRunnerFlags([`-vmspec=${encodeGzipBase64(bad)}`, '-memhp-auto-movable-ratio=301']),
        {},
      ),
    ).toThrow(/spec\.guest\.cpus/);
    expect(() => resolveRunnerConfig(parseRunnerFlags([`-vmspec=${encodeGzipBase64(spec)}`]), {})).toThrow(
      ConfigError,
    );
    expect(() =>
      resolveRunnerConfig(parseRunnerFlags(['-vmspec=notbase64', '-memhp-auto-movable-ratio=1']), {}),
    ).toThrow(/gzip\+base64/);
  });
});
