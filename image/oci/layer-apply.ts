/**
 * Applying one layer (a tar, optionally gzip-compressed) onto a directory, with whiteouts, as an
 * unprivileged process: plain file operations, no mounts, no overlayfs. Path decisions come from
 * layer-paths.ts; this module does the I/O.
 *
 * Ownership is kept when running as root (the directory becomes an ext4 image later, and mkfs.ext4
 * -d copies owners from it); otherwise files belong to the caller and `ownershipKept` says so.
 * Device nodes and FIFOs cannot be made without privileges (Node has no mknod): they are counted
 * and skipped — /dev is a devtmpfs in the guest anyway. Extended attributes are not applied.
 */
import { createHash, Hash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  createReadStream,
  createWriteStream,
  linkSync,
  lchownSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  readSync,
  rmSync,
  symlinkSync,
  utimesSync,
  Stats,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { Transform, TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import * as tar from 'tar-stream';
import { OciError, isOciError } from './errors';
import { classifyEntry, normalizeEntryPath, resolveInRoot, SymlinkReader } from './layer-paths';
import { UnpackBudget } from './limits';
import { LayerCompression, layerCompression } from './media-types';
import { parseDigest } from './digest';

export interface ApplyLayerOptions {
  /** Used for the error messages. */
  readonly name: string;
  readonly mediaType?: string;
  /** Expected digest of the uncompressed tar (the config's rootfs.diff_ids entry). */
  readonly diffId?: string;
  readonly budget: UnpackBudget;
  /** Default: when running as root. */
  readonly preserveOwnership?: boolean;
}

export interface LayerStats {
  readonly entries: number;
  readonly bytes: number;
  readonly whiteouts: number;
  /** Device nodes, FIFOs and unknown entry types that were not created. */
  readonly skipped: readonly string[];
  readonly ownershipKept: boolean;
}

const GZIP_MAGIC = [0x1f, 0x8b];
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];

function sniffCompression(path: string): LayerCompression {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(4);
    const n = readSync(fd, head, 0, 4, 0);
    const starts = (magic: number[]) => n >= magic.length && magic.every((b, i) => head[i] === b);
    if (starts(GZIP_MAGIC)) return 'gzip';
    if (starts(ZSTD_MAGIC)) return 'zstd';
    return 'none';
  } finally {
    closeSync(fd);
  }
}

/** Passes data through while hashing it (the diff_id is the digest of the uncompressed tar). */
class HashingPassThrough extends Transform {
  constructor(readonly hash: Hash) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    cb(null, chunk);
  }
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

class TreeReader implements SymlinkReader {
  constructor(private readonly root: string) {}

  readlink(relPath: string): string | undefined {
    try {
      return readlinkSync(join(this.root, relPath));
    } catch {
      return undefined; // not a symlink, or absent
    }
  }
}

/**
 * Paths this layer created, and every ancestor of them, so an opaque whiteout removes only what
 * lower layers left (the marker may come before or after the directory's new entries).
 */
class LayerChanges {
  private readonly created = new Set<string>();
  private readonly ancestors = new Set<string>();

  add(path: string): void {
    this.created.add(path);
    for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1))
      this.ancestors.add(path.slice(0, i));
  }

  isCreated(path: string): boolean {
    return this.created.has(path);
  }

  hasCreatedBelow(path: string): boolean {
    return this.ancestors.has(path);
  }
}

function removeLowerContents(root: string, dir: string, changes: LayerChanges): void {
  const abs = join(root, dir);
  const st = lstatOrUndefined(abs);
  if (!st?.isDirectory()) return;
  for (const name of readdirSync(abs)) {
    const rel = dir ? `${dir}/${name}` : name;
    if (changes.hasCreatedBelow(rel)) removeLowerContents(root, rel, changes);
    else if (!changes.isCreated(rel)) rmSync(join(root, rel), { recursive: true, force: true });
  }
}

export async function applyLayer(
  blobPath: string,
  root: string,
  opts: ApplyLayerOptions,
): Promise<LayerStats> {
  const compression =
    (opts.mediaType ? layerCompression(opts.mediaType) : undefined) ?? sniffCompression(blobPath);
  if (compression === 'zstd') {
    throw new OciError(
      'unsupported',
      `${opts.name}: zstd-compressed layers are not supported (Node 20 has no zstd)`,
    );
  }
  const preserveOwnership = opts.preserveOwnership ?? process.getuid?.() === 0;
  const hasher = new HashingPassThrough(
    createHash(opts.diffId ? parseDigest(opts.diffId).algorithm : 'sha256'),
  );
  const extract = tar.extract();
  const stages = [
    createReadStream(blobPath),
    ...(compression === 'gzip' ? [createGunzip()] : []),
    hasher,
    extract,
  ];
  const piped = pipeline(stages);
  piped.catch(() => undefined); // reported through the entry loop or awaited below

  const tree = new TreeReader(root);
  const changes = new LayerChanges();
  const dirTimes: Array<[string, Date]> = [];
  const skipped: string[] = [];
  let entries = 0;
  let bytes = 0;
  let whiteouts = 0;

  try {
    for await (const entry of extract) {
      const h = entry.header;
      opts.budget.addEntry(h.name);
      entries++;
      const path = normalizeEntryPath(h.name);
      const action = path === '' ? ({ kind: 'ignore' } as const) : classifyEntry(path);
      if (action.kind !== 'entry') {
        if (action.kind === 'whiteout') {
          whiteouts++;
          rmSync(join(root, resolveInRoot(action.target, tree)), { recursive: true, force: true });
        } else if (action.kind === 'opaque') {
          whiteouts++;
          removeLowerContents(root, resolveInRoot(action.dir, tree, true), changes);
        }
        entry.resume();
        continue;
      }
      const rel = resolveInRoot(action.path, tree);
      const abs = join(root, rel);
      const type = h.type ?? 'file';
      const existing = lstatOrUndefined(abs);
      // A directory merges into an existing directory; anything else replaces what was there.
      if (existing && !(type === 'directory' && existing.isDirectory())) {
        rmSync(abs, { recursive: true, force: true });
      }
      mkdirSync(dirname(abs), { recursive: true });
      const mode = (h.mode ?? 0o644) & 0o7777;
      switch (type) {
        case 'file':
        case 'contiguous-file': {
          opts.budget.addBytes(h.size ?? 0, h.name);
          bytes += h.size ?? 0;
          await pipeline(entry, createWriteStream(abs, { mode: 0o600 }));
          break;
        }
        case 'directory':
          mkdirSync(abs, { recursive: true });
          break;
        case 'symlink':
          symlinkSync(h.linkname ?? '', abs);
          break;
        case 'link': {
          const target = join(root, resolveInRoot(normalizeEntryPath(h.linkname ?? ''), tree));
          const st = lstatOrUndefined(target);
          if (!st || st.isDirectory()) {
            throw new OciError(
              'corrupt-layer',
              `${opts.name}: hard link ${h.name} → ${h.linkname}: target missing`,
            );
          }
          linkSync(target, abs);
          break;
        }
        default:
          skipped.push(`${h.name} (${type})`);
          entry.resume();
          continue;
      }
      if (type !== 'file' && type !== 'contiguous-file') entry.resume();
      changes.add(rel);
      if (type === 'link') continue; // shares the target's inode: owner, mode and times are the target's
      if (preserveOwnership) lchownSync(abs, h.uid ?? 0, h.gid ?? 0);
      const mtime = h.mtime ?? new Date(0);
      if (type === 'symlink') {
        lutimesSync(abs, mtime, mtime);
        continue;
      }
      chmodSync(abs, mode); // after chown, which clears setuid/setgid bits
      if (type === 'directory') dirTimes.push([abs, mtime]);
      else utimesSync(abs, mtime, mtime);
    }
    await piped;
  } catch (e) {
    extract.destroy();
    if (isOciError(e)) throw e;
    throw new OciError('corrupt-layer', `${opts.name}: ${(e as Error).message}`);
  }
  // Directory times last: creating their children updated them.
  for (const [abs, mtime] of dirTimes.reverse()) utimesSync(abs, mtime, mtime);

  if (opts.diffId) {
    const actual = `${parseDigest(opts.diffId).algorithm}:${hasher.hash.digest('hex')}`;
    if (actual !== opts.diffId) {
      throw new OciError(
        'digest-mismatch',
        `${opts.name}: uncompressed content hashes to ${actual}, the config's diff_id is ${opts.diffId}`,
      );
    }
  }
  return { entries, bytes, whiteouts, skipped, ownershipKept: preserveOwnership };
}
