/**
 * Which containerd snapshotter works for a directory: `overlayfs` needs an upper directory on a file
 * system that overlayfs accepts (ext4, xfs: yes; overlayfs itself, some network file systems: no). Tried
 * for real with a throw-away mount in a private mount namespace; `native` (plain copies) otherwise.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { shellQuote } from '../../host';

const run = promisify(execFile);

export async function detectSnapshotter(parent: string): Promise<'overlayfs' | 'native'> {
  await mkdir(parent, { recursive: true });
  const dir = await mkdtemp(join(parent, '.overlay-probe-'));
  try {
    for (const d of ['lower', 'upper', 'work', 'merged']) await mkdir(join(dir, d));
    await writeFile(join(dir, 'lower', 'probe'), 'ok');
    const q = (d: string): string => shellQuote(join(dir, d));
    const script =
      `mount -t overlay overlay -o lowerdir=${q('lower')},upperdir=${q('upper')},workdir=${q('work')} ` +
      `${q('merged')} && cat ${q('merged/probe')}`;
    // A private mount namespace: the mount never appears on the host and vanishes with the process.
    const { stdout } = await run('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script]);
    return stdout === 'ok' ? 'overlayfs' : 'native';
  } catch {
    return 'native';
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
