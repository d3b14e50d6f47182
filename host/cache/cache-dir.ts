/**
 * Atomically built cache directories: build into a temp sibling, write a `.complete` marker, rename
 * into place. An interrupted build leaves only a temp dir (removed on the next attempt's failure
 * path or ignored), never a half-built directory that looks finished. A lock file next to the
 * directory makes concurrent processes (runners, test workers) wait for one build instead of each
 * running their own.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { withFileLock } from './file-lock';

export const COMPLETE_MARKER = '.complete';

export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.NEONVM_CACHE || join(homedir(), '.cache', 'neonvm');
}

export function isComplete(dir: string): boolean {
  return existsSync(join(dir, COMPLETE_MARKER));
}

/** Returns dir, building it with build(tmpDir) first unless it is already complete. */
export async function ensureCacheDir(
  dir: string,
  build: (tmpDir: string) => Promise<void>,
  onWait?: (holderPid: number) => void,
): Promise<string> {
  if (isComplete(dir)) return dir;
  await mkdir(dirname(dir), { recursive: true });
  return withFileLock(
    `${dir}.lock`,
    async () => {
      if (isComplete(dir)) return dir; // built by the process we waited for
      await buildInto(dir, build);
      return dir;
    },
    { onWait },
  );
}

async function buildInto(dir: string, build: (tmpDir: string) => Promise<void>): Promise<void> {
  const tmp = await mkdtemp(join(dirname(dir), `.${basename(dir)}.tmp-`));
  try {
    await build(tmp);
    await chmod(tmp, 0o755); // mkdtemp makes it 0700; QEMU may run as another user (-runas)
    await writeFile(join(tmp, COMPLETE_MARKER), `${new Date().toISOString()}\n`);
    // A directory without the marker (left by an older, non-atomic tool) is in the way: replace it.
    await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
