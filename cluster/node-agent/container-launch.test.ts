import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkLaunchable, findExecutable, processEnv, resolveWorkingDir } from './container-launch';

describe('findExecutable', () => {
  it('searches PATH for bare names and checks paths directly', () => {
    expect(findExecutable('sh', '/nonexistent:/bin:/usr/bin')).toMatch(/\/sh$/);
    expect(findExecutable('/bin/sh', '')).toBe('/bin/sh');
    expect(findExecutable('no-such-program-xyz', '/bin:/usr/bin')).toBeUndefined();
  });
});

describe('resolveWorkingDir', () => {
  let root: string;
  beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'wd-'))));
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('defaults to the container root and prefers paths inside it', () => {
    expect(resolveWorkingDir(undefined, root)).toBe(root);
    mkdirSync(join(root, 'tmp'));
    expect(resolveWorkingDir('/tmp', root)).toBe(join(root, 'tmp'));
  });

  it('falls back to the host path, else creates the directory in the root', () => {
    expect(resolveWorkingDir('/usr', root)).toBe('/usr');
    expect(resolveWorkingDir('/work/app', root)).toBe(join(root, 'work/app'));
  });
});

describe('processEnv and checkLaunchable', () => {
  const env = processEnv(
    { A: '1', PATH: '/bin:/usr/bin' },
    {
      podName: 'p',
      podIP: '10.244.1.2',
      containerRoot: '/r',
      tmpDir: '/tmp/t',
      image: { entrypoint: [], files: '/img' },
    },
  );

  it('layers pod env over the base and adds NEONVM_* last', () => {
    expect(env).toMatchObject({
      A: '1',
      PATH: '/bin:/usr/bin',
      HOSTNAME: 'p',
      TMPDIR: '/tmp/t',
      NEONVM_POD_ROOT: '/r',
      NEONVM_IMAGE_FILES: '/img',
    });
  });

  it('reports a missing executable as StartError', () => {
    expect(checkLaunchable({ argv: ['nope-xyz'], env, cwd: '/' }, { name: 'c' })).toMatchObject({
      reason: 'StartError',
    });
    expect(checkLaunchable({ argv: [], env, cwd: '/' }, { name: 'c' })).toMatchObject({
      reason: 'StartError',
    });
    expect(checkLaunchable({ argv: ['sh'], env, cwd: '/' }, { name: 'c' })).toBeUndefined();
  });
});
