/**
 * Path rules for applying layers. Pure.
 *
 * - Entry names are normalised to root-relative paths; `..` components are refused outright (a
 *   well-formed layer never needs them), so a layer cannot name anything outside the root.
 * - Whiteouts (OCI image-spec "Representing Changes"): `.wh.<name>` deletes `<name>` from lower
 *   layers, `.wh..wh..opq` hides everything a lower layer put in its directory.
 * - Symlinks already in the tree are followed *inside* the root (as if the root were `/`), the way
 *   containerd and umoci do, so `etc -> /host/etc` plus an entry `etc/passwd` lands in
 *   `<root>/host/etc/passwd`, never on the host.
 */
import { OciError } from './errors';

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_WHITEOUT = '.wh..wh..opq';

/**
 * `./usr/bin/` → `usr/bin`; `/etc/passwd` → `etc/passwd`; `./` → '' (the root itself).
 * Throws unsafe-path for `..` components and NUL bytes.
 */
export function normalizeEntryPath(name: string): string {
  if (name.includes('\0'))
    throw new OciError('unsafe-path', `entry name contains a NUL byte: ${JSON.stringify(name)}`);
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      throw new OciError('unsafe-path', `entry ${JSON.stringify(name)} has a '..' component`);
    }
    parts.push(part);
  }
  return parts.join('/');
}

export type EntryAction =
  /** Remove `target` (file or whole directory) left by lower layers. */
  | { readonly kind: 'whiteout'; readonly target: string }
  /** Remove everything lower layers left inside `dir` (keep what this layer adds). */
  | { readonly kind: 'opaque'; readonly dir: string }
  /** aufs bookkeeping files (`.wh..wh.plnk`...): skipped. */
  | { readonly kind: 'ignore' }
  | { readonly kind: 'entry'; readonly path: string };

function splitPath(path: string): [string, string] {
  const i = path.lastIndexOf('/');
  return i < 0 ? ['', path] : [path.slice(0, i), path.slice(i + 1)];
}

/** What an entry of a layer means, from its (normalised) path. */
export function classifyEntry(path: string): EntryAction {
  const [dir, base] = splitPath(path);
  if (!base.startsWith(WHITEOUT_PREFIX)) return { kind: 'entry', path };
  if (base === OPAQUE_WHITEOUT) return { kind: 'opaque', dir };
  if (base.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) return { kind: 'ignore' };
  const name = base.slice(WHITEOUT_PREFIX.length);
  if (name === '' || name === '.' || name === '..') {
    throw new OciError('unsafe-path', `invalid whiteout ${JSON.stringify(path)}`);
  }
  return { kind: 'whiteout', target: dir ? `${dir}/${name}` : name };
}

/** Read access to the tree being built: the target of a symlink at a root-relative path, or undefined. */
export interface SymlinkReader {
  readlink(relPath: string): string | undefined;
}

/** Symlink hops allowed while resolving one path (Linux: 40). */
const MAX_LINKS = 40;

/**
 * Resolves `path` (already normalised) against the tree with `root` as `/`: symlinks met on the
 * way are followed and clamped to the root, `..` in link targets never climbs above it. The last
 * component is followed only when `followLast` (creating an entry replaces a symlink, it does not
 * write through it). Returns the resolved root-relative path.
 */
export function resolveInRoot(path: string, fs: SymlinkReader, followLast = false): string {
  const resolved: string[] = [];
  const pending = path.split('/').filter((p) => p !== '');
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = [...resolved, part].join('/');
    const isLast = pending.length === 0;
    const target = isLast && !followLast ? undefined : fs.readlink(candidate);
    if (target === undefined) {
      resolved.push(part);
      continue;
    }
    if (++links > MAX_LINKS) {
      throw new OciError(
        'unsafe-path',
        `too many levels of symbolic links resolving ${JSON.stringify(path)}`,
      );
    }
    if (target.startsWith('/')) resolved.length = 0;
    pending.unshift(...target.split('/').filter((p) => p !== ''));
  }
  return resolved.join('/');
}
