/** Measuring a directory tree for disk sizing (see disk-size.ts). */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BLOCK_SIZE, emptyUsage, roundUp, TreeUsage } from './disk-size';

export async function measureTree(root: string): Promise<TreeUsage> {
  const u = { ...emptyUsage() };
  const seen = new Set<string>();
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      const st = await lstat(p);
      if (st.isDirectory()) {
        u.dirs++;
        await walk(p);
      } else if (st.isFile()) {
        const key = `${st.dev}:${st.ino}`;
        if (st.nlink > 1 && seen.has(key)) continue;
        seen.add(key);
        u.files++;
        u.bytes += st.size;
        u.blockBytes += roundUp(st.size, BLOCK_SIZE);
      } else if (st.isSymbolicLink()) {
        u.symlinks++;
        if (st.size > 59) u.blockBytes += BLOCK_SIZE; // longer targets do not fit in the inode
      } else {
        u.otherInodes++;
      }
    }
  };
  await walk(root);
  return u;
}
