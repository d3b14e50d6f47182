import { canonicalImageRef, imageFileName, parseImageRef } from './image-ref';

describe('canonicalImageRef', () => {
  it.each([
    ['busybox', 'docker.io/library/busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['docker.io/library/busybox:latest', 'docker.io/library/busybox:latest'],
    ['neonvm-test/shell', 'docker.io/neonvm-test/shell:latest'],
    ['ghcr.io/neondatabase/vm-runner:v1', 'ghcr.io/neondatabase/vm-runner:v1'],
    ['localhost:5000/runner', 'localhost:5000/runner:latest'],
    ['quay.io/x/y@sha256:abc', 'quay.io/x/y@sha256:abc'],
  ])('%s -> %s', (ref, canonical) => {
    expect(canonicalImageRef(ref)).toBe(canonical);
  });

  it('tells a registry port from a tag', () => {
    expect(parseImageRef('localhost:5000/runner:dev')).toEqual({
      registry: 'localhost:5000',
      repository: 'runner',
      tag: 'dev',
      digest: undefined,
    });
  });

  it('rejects an empty reference', () => {
    expect(() => parseImageRef(' ')).toThrow('empty image reference');
  });
});

describe('imageFileName', () => {
  it('has no path separators', () => {
    expect(imageFileName('ghcr.io/a/b:1')).toBe('ghcr.io%2Fa%2Fb%3A1.json');
  });
});
