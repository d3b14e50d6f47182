/**
 * The release of this checkout for `npm start` on real nodes: what `npm run build:images -- --arch
 * <host>` builds (the same buildRelease), for the registry prefix `neonvm.local/neonvm-ts`, cached by
 * the state of the sources (HEAD, uncommitted changes, untracked files) under
 * ${NEONVM_CACHE}/local-release/<key>/ so only the first start after a change pays the build (~5 min
 * on 2 busy cores). Older builds are removed once a new one is complete. The runner's QEMU follows
 * NEONVM_RELEASE_QEMU (`backports`, the default, or `debian`), part of the key.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cacheRoot, ensureCacheDir, packagePath, runText } from '../host';
import { QEMU_SOURCE_ENV, buildRelease, parseQemuSource } from '../release';

export const LOCAL_REGISTRY = 'neonvm.local/neonvm-ts';

export interface LocalRelease {
  /** Like `dist/`: `images/<name>/` layouts and `install/neonvm.yaml`. */
  readonly dist: string;
  readonly registry: string;
}

/** A hash of what the build reads from the checkout: HEAD, the diff against it, untracked files. */
async function sourceState(repoDir: string): Promise<string> {
  const git = (...args: string[]): Promise<string> => runText(['git', ...args], { cwd: repoDir });
  const hash = createHash('sha256');
  hash.update(await git('rev-parse', 'HEAD'));
  hash.update(await git('diff', 'HEAD', '--binary'));
  for (const file of (await git('ls-files', '--others', '--exclude-standard', '-z')).split('\0'))
    if (file) hash.update(file).update(readFileSync(join(repoDir, file)));
  return hash.digest('hex').slice(0, 16);
}

export async function ensureLocalRelease(progress: (line: string) => void): Promise<LocalRelease> {
  const repoDir = dirname(packagePath(__dirname, 'tsconfig.build.json'));
  const root = join(cacheRoot(), 'local-release');
  const qemu = parseQemuSource(process.env[QEMU_SOURCE_ENV], QEMU_SOURCE_ENV);
  const key = `${await sourceState(repoDir)}-qemu-${qemu}`;
  const dist = await ensureCacheDir(join(root, key), async (tmp) => {
    progress(`building the release images of this checkout (state ${key}; cached afterwards)`);
    await buildRelease({
      repoDir,
      outDir: tmp,
      archs: [process.arch === 'arm64' ? 'arm64' : 'amd64'],
      registry: LOCAL_REGISTRY,
      cacheDir: cacheRoot(),
      progress: (l) => progress(`  ${l}`),
      qemu,
    });
  });
  // Completed builds of other states (not their locks, nor a build in progress: `.<key>.tmp-*`).
  for (const entry of readdirSync(root))
    if (entry !== key && !entry.startsWith('.') && !entry.endsWith('.lock'))
      rmSync(join(root, entry), { recursive: true, force: true });
  return { dist, registry: LOCAL_REGISTRY };
}
