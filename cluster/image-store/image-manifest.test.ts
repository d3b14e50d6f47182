import { containerArgv, isImageManifest } from './image-manifest';

describe('containerArgv', () => {
  const image = { entrypoint: ['/bin/runner'], cmd: ['--default'] };

  it('runs entrypoint + cmd when the container sets neither', () => {
    expect(containerArgv(image, {})).toEqual(['/bin/runner', '--default']);
  });

  it('replaces cmd with args', () => {
    expect(containerArgv(image, { args: ['--vm', 'x'] })).toEqual(['/bin/runner', '--vm', 'x']);
  });

  it('replaces entrypoint and drops cmd when command is set', () => {
    expect(containerArgv(image, { command: ['sh', '-c'], args: ['echo hi'] })).toEqual([
      'sh',
      '-c',
      'echo hi',
    ]);
    expect(containerArgv(image, { command: ['true'] })).toEqual(['true']);
  });
});

describe('isImageManifest', () => {
  it('accepts a minimal manifest and rejects malformed ones', () => {
    expect(isImageManifest({ entrypoint: [] })).toBe(true);
    expect(isImageManifest({ entrypoint: 'sh' })).toBe(false);
    expect(isImageManifest({ entrypoint: [], env: { A: 1 } })).toBe(false);
  });
});
