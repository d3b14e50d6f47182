import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findPulumiToolchain, pulumiCacheDir, pulumiEnv } from './pulumi-toolchain';

describe('pulumi toolchain lookup', () => {
  let cache: string;
  beforeEach(() => (cache = mkdtempSync(join(tmpdir(), 'neonvm-cache-'))));
  afterEach(() => rmSync(cache, { recursive: true, force: true }));

  test('cache directory keyed by both versions', () => {
    expect(pulumiCacheDir({ NEONVM_CACHE: cache })).toBe(join(cache, 'pulumi-v3.276.0-k8s-v4.25.0'));
  });

  test('a build without the .complete marker is not used', () => {
    const dir = pulumiCacheDir({ NEONVM_CACHE: cache });
    mkdirSync(join(dir, 'bin'), { recursive: true });
    for (const b of ['pulumi', 'pulumi-resource-kubernetes']) writeFileSync(join(dir, 'bin', b), '');
    expect(findPulumiToolchain({ NEONVM_CACHE: cache })).toBeUndefined();
    writeFileSync(join(dir, '.complete'), '');
    expect(findPulumiToolchain({ NEONVM_CACHE: cache })).toEqual({
      root: dir,
      pulumi: join(dir, 'bin', 'pulumi'),
      provider: join(dir, 'bin', 'pulumi-resource-kubernetes'),
      home: join(dir, 'home'),
    });
  });

  test('PULUMI_BIN (from scripts/test.sh) points at the bin directory', () => {
    const bin = join(cache, 'elsewhere', 'bin');
    mkdirSync(bin, { recursive: true });
    for (const b of ['pulumi', 'pulumi-resource-kubernetes']) writeFileSync(join(bin, b), '');
    expect(findPulumiToolchain({ NEONVM_CACHE: cache, PULUMI_BIN: bin })?.root).toBe(
      join(cache, 'elsewhere'),
    );
  });

  test('the environment never downloads plugins or checks for updates', () => {
    const env = pulumiEnv({ root: '/r', pulumi: '/r/bin/pulumi', provider: '/r/bin/p', home: '/r/home' });
    expect(env).toMatchObject({
      PULUMI_HOME: '/r/home',
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: 'true',
      PULUMI_SKIP_UPDATE_CHECK: 'true',
    });
  });
});
