import type { Descriptor } from './documents';
import { MEDIA_TYPES } from './media-types';
import { normalizeArchitecture, parsePlatformString, platformMatches, selectManifest } from './platform';

const d = (digest: string, architecture?: string, extra: Partial<Descriptor> = {}): Descriptor => ({
  mediaType: MEDIA_TYPES.ociManifest,
  digest: `sha256:${digest.repeat(64).slice(0, 64)}`,
  size: 1,
  ...(architecture ? { platform: { os: 'linux', architecture } } : {}),
  ...extra,
});

describe('platforms', () => {
  it('normalises kernel arch names', () => {
    expect(normalizeArchitecture('x86_64')).toBe('amd64');
    expect(normalizeArchitecture('aarch64')).toBe('arm64');
    expect(normalizeArchitecture('riscv64')).toBe('riscv64');
  });
  it('parses platform strings', () => {
    expect(parsePlatformString('linux/arm64/v8')).toEqual({
      os: 'linux',
      architecture: 'arm64',
      variant: 'v8',
    });
    expect(parsePlatformString('aarch64')).toEqual({ os: 'linux', architecture: 'arm64' });
    expect(() => parsePlatformString('linux//')).toThrow(/invalid platform/);
  });
  it('arm64 variant v8 is the default', () => {
    const arm = { os: 'linux', architecture: 'arm64' };
    expect(platformMatches({ ...arm, variant: 'v8' }, arm)).toBe(true);
    expect(platformMatches({ ...arm, variant: 'v8' }, { ...arm, variant: '' })).toBe(true);
    expect(
      platformMatches(
        { os: 'linux', architecture: 'arm', variant: 'v7' },
        { os: 'linux', architecture: 'arm', variant: 'v6' },
      ),
    ).toBe(false);
  });
});

describe('selectManifest', () => {
  const amd = { os: 'linux', architecture: 'amd64' };
  it('picks the matching platform of a multi-arch index', () => {
    expect(selectManifest([d('a', 'arm64'), d('b', 'amd64')], amd).digest).toMatch(/^sha256:b/);
  });
  it('accepts descriptors without a platform', () => {
    expect(selectManifest([d('a')], amd).digest).toMatch(/^sha256:a/);
  });
  it('skips BuildKit attestation manifests', () => {
    const att = d('c', 'unknown', { annotations: { 'vnd.docker.reference.type': 'attestation-manifest' } });
    expect(selectManifest([att, d('b', 'amd64')], amd).digest).toMatch(/^sha256:b/);
  });
  it('reports the platforms on offer when none matches', () => {
    expect(() => selectManifest([d('a', 'arm64'), d('b', 's390x')], amd)).toThrow(
      /no image for linux\/amd64 \(the image provides linux\/arm64, linux\/s390x\)/,
    );
  });
  it('selects by reference name', () => {
    const named = (digest: string, name: string) =>
      d(digest, undefined, { annotations: { 'org.opencontainers.image.ref.name': name } });
    expect(selectManifest([named('a', 'v1'), named('b', 'v2')], amd, 'v2').digest).toMatch(/^sha256:b/);
    expect(() => selectManifest([named('a', 'v1')], amd, 'v3')).toThrow(/no image named "v3".*v1/);
  });
  it('refuses to guess between several images', () => {
    expect(() => selectManifest([d('a'), d('b')], amd)).toThrow(/2 images match/);
  });
});
