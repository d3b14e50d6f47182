/**
 * A cross-process lock file (O_EXCL create, holder's PID inside). A lock whose holder is gone
 * (crashed build, killed test run) is taken over, so nothing ever waits on a dead process.
 */
import { open, readFile, stat, unlink } from 'node:fs/promises';
import { processExists } from '../process/process-exists';

export interface LockOptions {
  /** Give up after this long. Default 15 min (a cold guest build on a loaded machine). */
  readonly timeoutMs?: number;
  readonly pollMs?: number;
  /** Called once when the lock is held by another live process. */
  readonly onWait?: (holderPid: number) => void;
}

/** Returns undefined when acquired, else the holder's PID (0: a holder still writing its PID). */
async function tryAcquire(path: string): Promise<number | undefined> {
  try {
    const fh = await open(path, 'wx');
    await fh.writeFile(String(process.pid));
    await fh.close();
    return undefined;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
  if (pid > 0 && (pid === process.pid || processExists(pid))) return pid;
  if (!(pid > 0)) {
    // Empty: a new holder between create and write, unless it died right there long ago.
    const age = Date.now() - ((await stat(path).catch(() => undefined))?.mtimeMs ?? 0);
    if (age < 5000) return 0;
  }
  // The holder is gone: take the lock over (the O_EXCL create still admits only one taker).
  await unlink(path).catch(() => undefined);
  return tryAcquire(path);
}

/** Runs fn while holding the lock file at path. */
export async function withFileLock<T>(
  path: string,
  fn: () => Promise<T>,
  opts: LockOptions = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 15 * 60_000);
  let told = false;
  for (;;) {
    const holder = await tryAcquire(path);
    if (holder === undefined) break;
    if (!told) {
      opts.onWait?.(holder);
      told = true;
    }
    if (Date.now() > deadline) throw new Error(`lock ${path} still held by pid ${holder}`);
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 200));
  }
  try {
    return await fn();
  } finally {
    await unlink(path).catch(() => undefined);
  }
}
