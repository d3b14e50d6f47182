import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCacheDir, isComplete } from './cache-dir';

describe('ensureCacheDir', () => {
  let root: string;
  beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'neonvm-cache-test-'))));
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('builds once and reuses the complete directory', async () => {
    const dir = join(root, 'thing-1');
    let builds = 0;
    const build = async (tmp: string) => {
      builds++;
      await writeFile(join(tmp, 'out'), 'x');
    };
    await ensureCacheDir(dir, build);
    await ensureCacheDir(dir, build);
    expect(builds).toBe(1);
    expect(readFileSync(join(dir, 'out'), 'utf8')).toBe('x');
    expect(isComplete(dir)).toBe(true);
  });

  it('makes concurrent callers wait for one build', async () => {
    const dir = join(root, 'thing-3');
    let builds = 0;
    const build = async (tmp: string) => {
      builds++;
      await new Promise((r) => setTimeout(r, 50));
      await writeFile(join(tmp, 'out'), 'x');
    };
    const results = await Promise.all([ensureCacheDir(dir, build), ensureCacheDir(dir, build)]);
    expect(results).toEqual([dir, dir]);
    expect(builds).toBe(1);
    expect(existsSync(`${dir}.lock`)).toBe(false);
  });

  it('leaves nothing behind when the build fails and replaces an incomplete dir', async () => {
    const dir = join(root, 'thing-2');
    await expect(ensureCacheDir(dir, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(existsSync(dir)).toBe(false);
    await mkdir(dir); // e.g. left by an older, non-atomic tool
    await ensureCacheDir(dir, (tmp) => writeFile(join(tmp, 'out'), 'y'));
    expect(readFileSync(join(dir, 'out'), 'utf8')).toBe('y');
  });
});
