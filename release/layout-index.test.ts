import { planTaggedIndex } from './layout-index';

const manifest = (arch: string, hex: string) => ({
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: `sha256:${hex.repeat(64)}`,
  size: 100,
  platform: { os: 'linux', architecture: arch },
  annotations: { 'org.opencontainers.image.ref.name': 'stale' },
});

describe('planTaggedIndex', () => {
  it('tags the image index with the version and each platform manifest with version-arch', () => {
    const plan = planTaggedIndex([manifest('amd64', 'a'), manifest('arm64', 'b')], '0.1.0', { k: 'v' });
    const imageIndex = JSON.parse(plan.imageIndex) as {
      manifests: { annotations?: unknown }[];
      annotations: unknown;
    };
    expect(imageIndex.manifests).toHaveLength(2);
    expect(imageIndex.manifests[0].annotations).toBeUndefined();
    expect(imageIndex.annotations).toEqual({ k: 'v' });
    const layout = plan.layoutIndex({
      mediaType: 'application/vnd.oci.image.index.v1+json',
      digest: 'sha256:x',
      size: 1,
    });
    expect(layout.manifests.map((m) => m.annotations?.['org.opencontainers.image.ref.name'])).toEqual([
      '0.1.0',
      '0.1.0-amd64',
      '0.1.0-arm64',
    ]);
  });

  it('is deterministic', () => {
    const a = planTaggedIndex([manifest('amd64', 'a')], '1', {});
    const b = planTaggedIndex([manifest('amd64', 'a')], '1', {});
    expect(a.imageIndex).toBe(b.imageIndex);
  });
});
