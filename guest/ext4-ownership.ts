/**
 * `mkfs.ext4 -d` copies the builder's uid/gid into the image, so a build by a non-root user would
 * give the guest a /root, /etc/shadow and /neonvm owned by that uid (and dropbear refuses keys under
 * a /root it does not trust). debugfs rewrites the owners in the image file afterwards, no mount
 * needed: every file of the guest root filesystem belongs to root.
 */
import { lstat, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../host';

/** debugfs commands setting uid and gid 0 on each path (image-absolute, e.g. "/etc/shadow"). */
export function rootOwnershipCommands(paths: readonly string[]): string {
  return paths
    .map((p) => {
      if (/[\s"]/.test(p))
        throw new Error(`path not representable in a debugfs script: ${JSON.stringify(p)}`);
      return `set_inode_field ${p} uid 0\nset_inode_field ${p} gid 0\n`;
    })
    .join('');
}

/** All paths below dir as image-absolute paths (symlinks listed, not followed). */
export async function listTree(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const rel = `${prefix}/${e.name}`;
    out.push(rel);
    if (e.isDirectory() && !(await lstat(join(dir, e.name))).isSymbolicLink()) {
      out.push(...(await listTree(join(dir, e.name), rel)));
    }
  }
  return out;
}

/** Makes every inode made from `tree` in the ext4 `image` owned by 0:0. */
export async function chownImageToRoot(image: string, tree: string, scratchDir: string): Promise<void> {
  if (process.getuid?.() === 0) return; // mkfs.ext4 already recorded root ownership
  const script = join(scratchDir, 'chown.debugfs');
  await writeFile(script, rootOwnershipCommands(['/', ...(await listTree(tree))]));
  await run(['debugfs', '-w', '-f', script, image]);
}
