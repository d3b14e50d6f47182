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

  it('lets concurrent builders of the same directory both succeed', async () => {
    const dir = join(root, 'thing-3');
    const build = (content: string) => async (tmp: string) => {
      await new Promise((r) => setTimeout(r, 20));
      await writeFile(join(tmp, 'out'), content);
    };
    const results = await Promise.all([ensureCacheDir(dir, build('a')), ensureCacheDir(dir, build('b'))]);
    expect(results).toEqual([dir, dir]);
    expect(['a', 'b']).toContain(readFileSync(join(dir, 'out'), 'utf8'));
    expect(isComplete(dir)).toBe(true);
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
