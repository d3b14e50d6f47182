import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, normalize, sep } from 'node:path';

/** Relative file path → content; what a configMap/secret/downwardAPI/projected volume holds. */
export type VolumePayload = Record<string, { data: Buffer; mode?: number }>;

const DATA_LINK = '..data';

/**
 * Rejects payload paths that could escape the volume (absolute, `..` components, or using the reserved
 * `..`-prefixed names of the layout itself), as the kubelet's atomic writer does.
 */
export function validatePayloadPath(path: string): void {
  if (
    !path ||
    path.startsWith('/') ||
    normalize(path) !== path ||
    path.split(sep).some((p) => p === '..' || p.startsWith('..'))
  ) {
    throw new Error(`invalid volume file path "${path}"`);
  }
}

/** The names visible at the volume's top level: the first component of every payload path. */
export function userVisibleEntries(payload: VolumePayload): string[] {
  return [...new Set(Object.keys(payload).map((p) => p.split(sep)[0]))].sort();
}

/**
 * Writes `payload` into `dir` with the kubelet's atomic-writer layout, so a reader never sees a mix of
 * old and new files:
 *
 *   dir/..2026_11_27_10_00_00.123456789/<files>   the current generation (a timestamped directory)
 *   dir/..data -> ..2026_11_27_...                 switched with one rename(2) of a temp symlink
 *   dir/<name> -> ..data/<name>                    one symlink per top-level entry
 *
 * Returns false (and touches nothing) when the content is unchanged.
 */
export function writeAtomically(dir: string, payload: VolumePayload): boolean {
  for (const path of Object.keys(payload)) validatePayloadPath(path);
  mkdirSync(dir, { recursive: true });
  const current = currentGeneration(dir);
  if (current && sameContent(join(dir, current), payload)) return false;

  const stamp = new Date().toISOString().replace(/[-:T]/g, '_').replace('Z', '');
  const generation = `..${stamp}.${randomBytes(4).toString('hex')}`;
  const genDir = join(dir, generation);
  for (const [path, { data, mode }] of Object.entries(payload)) {
    const file = join(genDir, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, data);
    chmodSync(file, mode ?? 0o644);
  }
  mkdirSync(genDir, { recursive: true });

  const tmpLink = join(dir, '..data_tmp');
  rmSync(tmpLink, { force: true });
  symlinkSync(generation, tmpLink);
  renameSync(tmpLink, join(dir, DATA_LINK));

  const wanted = new Set(userVisibleEntries(payload));
  for (const name of wanted) {
    const link = join(dir, name);
    if (!isSymlink(link)) symlinkSync(join(DATA_LINK, name), link);
  }
  for (const name of readdirSync(dir)) {
    if (name.startsWith('..')) continue;
    if (!wanted.has(name)) unlinkSync(join(dir, name));
  }
  if (current) rmSync(join(dir, current), { recursive: true, force: true });
  return true;
}

function currentGeneration(dir: string): string | undefined {
  const link = join(dir, DATA_LINK);
  return isSymlink(link) ? readlinkSync(link) : undefined;
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

function sameContent(genDir: string, payload: VolumePayload): boolean {
  const wanted = Object.keys(payload).sort();
  if (listFiles(genDir).join('\n') !== wanted.join('\n')) return false;
  return wanted.every((path) => readFileSync(join(genDir, path)).equals(payload[path].data));
}

function listFiles(root: string, prefix = ''): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(join(root, prefix), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listFiles(root, join(prefix, e.name)) : [join(prefix, e.name)]))
    .sort();
}
