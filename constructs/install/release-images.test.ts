import { releaseImages } from './release-images';

const digests = {
  operator: `sha256:${'a'.repeat(64)}`,
  runner: `sha256:${'b'.repeat(64)}`,
  devicePlugin: `sha256:${'c'.repeat(64)}`,
};

describe('releaseImages', () => {
  it('pins the three images by digest under the registry prefix', () => {
    expect(releaseImages({ registry: 'registry.local:5000/neonvm/', digests })).toEqual({
      image: `registry.local:5000/neonvm/neonvm-operator@sha256:${'a'.repeat(64)}`,
      runnerImage: `registry.local:5000/neonvm/neonvm-runner@sha256:${'b'.repeat(64)}`,
      devicePluginImage: `registry.local:5000/neonvm/neonvm-device-plugin@sha256:${'c'.repeat(64)}`,
    });
  });

  it('without a device plugin digest, no device plugin image', () => {
    const { operator, runner } = digests;
    expect(releaseImages({ registry: 'r', digests: { operator, runner } })).not.toHaveProperty(
      'devicePluginImage',
    );
  });

  it('takes other repository names', () => {
    expect(releaseImages({ registry: 'r', digests, names: { runner: 'vm-runner' } }).runnerImage).toBe(
      `r/vm-runner@sha256:${'b'.repeat(64)}`,
    );
  });

  it('refuses a malformed digest or an empty registry', () => {
    expect(() => releaseImages({ registry: 'r', digests: { ...digests, runner: 'latest' } })).toThrow(
      /runner digest/,
    );
    expect(() => releaseImages({ registry: 'r', digests: { ...digests, devicePlugin: 'sha256:x' } })).toThrow(
      /devicePlugin digest/,
    );
    expect(() => releaseImages({ registry: '/', digests })).toThrow(/registry is empty/);
  });
});
