/**
 * The compiled project as it goes into /app: package.json, lib/ (from `npm run build`), the guest
 * agent sources (the runner hashes them to find its built-in guest) and production node_modules.
 * node_modules come from `npm ci --omit=dev` in a staging dir cached by the lock file's hash, so
 * they are installed once per dependency change.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureCacheDir, runText } from '../host';

/** Returns a directory holding `node_modules/` with only production dependencies. */
export async function productionNodeModules(
  repoDir: string,
  cacheDir: string,
  progress: (line: string) => void,
): Promise<string> {
  const pkg = await readFile(join(repoDir, 'package.json'));
  const lock = await readFile(join(repoDir, 'package-lock.json'));
  const key = createHash('sha256').update(pkg).update('\0').update(lock).digest('hex').slice(0, 12);
  const dir = join(cacheDir, `app-node-modules-${key}`);
  return ensureCacheDir(dir, async (tmp) => {
    progress(`npm: installing production dependencies (${key})`);
    await writeFile(join(tmp, 'package.json'), pkg);
    await writeFile(join(tmp, 'package-lock.json'), lock);
    // --ignore-scripts: the image needs no install hooks, and a hook's output would vary per build.
    await runText(
      ['npm', 'ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'],
      { cwd: tmp },
    );
  });
}
