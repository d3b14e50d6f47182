/**
 * Atomically built cache directories: build into a temp sibling, write a `.complete` marker, rename
 * into place. An interrupted build leaves only a temp dir (removed on the next attempt's failure
 * path or ignored), never a half-built directory that looks finished.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';

export const COMPLETE_MARKER = '.complete';

export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.NEONVM_CACHE || join(homedir(), '.cache', 'neonvm');
}

export function isComplete(dir: string): boolean {
  return existsSync(join(dir, COMPLETE_MARKER));
}

/** Returns dir, building it with build(tmpDir) first unless it is already complete. */
export async function ensureCacheDir(dir: string, build: (tmpDir: string) => Promise<void>): Promise<string> {
  if (isComplete(dir)) return dir;
  await mkdir(dirname(dir), { recursive: true });
  const tmp = await mkdtemp(join(dirname(dir), `.${basename(dir)}.tmp-`));
  try {
    await build(tmp);
    await chmod(tmp, 0o755); // mkdtemp makes it 0700; QEMU may run as another user (-runas)
    await writeFile(join(tmp, COMPLETE_MARKER), `${new Date().toISOString()}\n`);
    if (existsSync(dir)) {
      // Another process finished first, or a stale incomplete dir (no marker) is in the way.
      if (isComplete(dir)) return dir;
      await rm(dir, { recursive: true, force: true });
    }
    try {
      await rename(tmp, dir);
    } catch (e) {
      // Lost a race with another process that renamed its build into place just now.
      if (isComplete(dir)) return dir;
      throw e;
    }
    return dir;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
