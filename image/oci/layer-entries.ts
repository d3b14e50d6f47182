/**
 * What goes into a layer we write: a flat list of entries, from memory or from a host directory,
 * put in canonical order. The order and the normalised metadata (owner 0:0, one fixed mtime) are
 * what make the same inputs give the same layer digest.
 */
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { OciError } from './errors';
import { normalizeEntryPath } from './layer-paths';

export type LayerEntry =
  | { readonly kind: 'dir'; readonly path: string; readonly mode?: number }
  | {
      readonly kind: 'file';
      readonly path: string;
      readonly mode?: number;
      readonly content: Buffer | string;
    }
  /** A host file streamed into the layer (large files: disk images). */
  | {
      readonly kind: 'host-file';
      readonly path: string;
      readonly mode?: number;
      readonly source: string;
      readonly size: number;
    }
  | { readonly kind: 'symlink'; readonly path: string; readonly target: string }
  /** A hard link to an earlier entry of the same layer. */
  | { readonly kind: 'hardlink'; readonly path: string; readonly target: string };

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * Canonical order: byte-wise by path, each missing parent directory added (mode 0755) so every
 * extractor creates directories with the intended mode, duplicates rejected. Pure.
 */
export function canonicalLayerEntries(entries: readonly LayerEntry[]): LayerEntry[] {
  const byPath = new Map<string, LayerEntry>();
  for (const e of entries) {
    const path = normalizeEntryPath(e.path);
    if (path === '') throw new OciError('unsafe-path', 'a layer entry cannot be the root directory');
    if (byPath.has(path)) throw new OciError('invalid-document', `duplicate layer entry ${path}`);
    byPath.set(path, { ...e, path });
  }
  for (const path of [...byPath.keys()]) {
    for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) {
      const parent = path.slice(0, i);
      const existing = byPath.get(parent);
      if (!existing) byPath.set(parent, { kind: 'dir', path: parent, mode: 0o755 });
      else if (existing.kind !== 'dir')
        throw new OciError('invalid-document', `${parent} is both a ${existing.kind} and a directory`);
    }
  }
  const sorted = [...byPath.values()].sort((a, b) => compareBytes(a.path, b.path));
  const seen = new Set<string>();
  for (const e of sorted) {
    if (e.kind === 'hardlink') {
      const target = normalizeEntryPath(e.target);
      if (!seen.has(target))
        throw new OciError(
          'invalid-document',
          `hard link ${e.path} → ${e.target}: target is not an earlier entry`,
        );
    }
    seen.add(e.path);
  }
  return sorted;
}

/**
 * The entries of a host directory (recursive; the directory itself is not an entry). Hard links
 * between files of the tree are kept as hard links; sockets and devices are refused.
 */
export async function layerEntriesFromDir(root: string, prefix = ''): Promise<LayerEntry[]> {
  const out: LayerEntry[] = [];
  const inodes = new Map<string, string>();
  const walk = async (rel: string): Promise<void> => {
    const names = (await readdir(join(root, rel))).sort(compareBytes);
    for (const name of names) {
      const childRel = rel ? `${rel}/${name}` : name;
      const path = prefix ? `${prefix}/${childRel}` : childRel;
      const abs = join(root, childRel);
      const st = await lstat(abs);
      const mode = st.mode & 0o7777;
      if (st.isDirectory()) {
        out.push({ kind: 'dir', path, mode });
        await walk(childRel);
      } else if (st.isSymbolicLink()) {
        out.push({ kind: 'symlink', path, target: await readlink(abs) });
      } else if (st.isFile()) {
        const key = `${st.dev}:${st.ino}`;
        const first = st.nlink > 1 ? inodes.get(key) : undefined;
        if (first !== undefined) out.push({ kind: 'hardlink', path, target: first });
        else {
          if (st.nlink > 1) inodes.set(key, path);
          out.push({ kind: 'host-file', path, mode, source: abs, size: st.size });
        }
      } else {
        throw new OciError('unsupported', `${abs}: sockets, FIFOs and device nodes cannot go into a layer`);
      }
    }
  };
  await walk('');
  return out;
}
