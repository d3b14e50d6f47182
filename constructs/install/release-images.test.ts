import { releaseImages } from './release-images';

const digests = { operator: `sha256:${'a'.repeat(64)}`, runner: `sha256:${'b'.repeat(64)}` };

describe('releaseImages', () => {
  it('pins both images by digest under the registry prefix', () => {
    expect(releaseImages({ registry: 'registry.local:5000/neonvm/', digests })).toEqual({
      image: `registry.local:5000/neonvm/neonvm-operator@sha256:${'a'.repeat(64)}`,
      runnerImage: `registry.local:5000/neonvm/neonvm-runner@sha256:${'b'.repeat(64)}`,
    });
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
    expect(() => releaseImages({ registry: '/', digests })).toThrow(/registry is empty/);
  });
});
