/**
 * Tar archives of images (`docker save` output, `skopeo copy oci-archive:`, a tar of an OCI
 * layout): telling them from a plain root filesystem tarball, and unpacking them to a directory so
 * the layout reader can address blobs by path.
 */
import { createReadStream, createWriteStream, mkdirSync, symlinkSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { OciError, isOciError } from './errors';
import { normalizeEntryPath } from './layer-paths';
import { UnpackBudget } from './limits';

export type ArchiveKind = 'oci-archive' | 'docker-archive' | 'rootfs-tarball';

/** Top-level names an image archive consists of; anything else means a root filesystem tarball. */
function isImageArchiveName(path: string): boolean {
  if (path === '' || path === 'blobs' || path.startsWith('blobs/')) return true;
  // Legacy docker save: <hex>.json configs, <hex>.tar layers, <hex>/{layer.tar,json,VERSION}.
  if (/^[a-f0-9]{64}(\.json|\.tar|\/layer\.tar|\/json|\/VERSION)?$/.test(path)) return true;
  return ['index.json', 'oci-layout', 'manifest.json', 'repositories'].includes(path);
}

async function isGzipFile(path: string): Promise<boolean> {
  for await (const chunk of createReadStream(path, { start: 0, end: 1 })) {
    const b = chunk as Buffer;
    return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
  }
  return false;
}

async function tarSource(path: string): Promise<Readable[]> {
  return (await isGzipFile(path)) ? [createReadStream(path), createGunzip()] : [createReadStream(path)];
}

/**
 * Scans the archive's entry names; stops at the first one that cannot belong to an image archive
 * (a root filesystem tarball is recognised after one entry, not after reading it all).
 */
export async function detectArchiveKind(path: string): Promise<ArchiveKind> {
  const extract = tar.extract();
  const piped = pipeline([...(await tarSource(path)), extract]);
  piped.catch(() => undefined);
  let sawIndex = false;
  let sawDockerManifest = false;
  let sawAnything = false;
  try {
    for await (const entry of extract) {
      sawAnything = true;
      const name = normalizeEntryPath(entry.header.name);
      entry.resume();
      if (!isImageArchiveName(name)) {
        extract.destroy();
        return 'rootfs-tarball';
      }
      if (name === 'index.json') sawIndex = true;
      if (name === 'manifest.json') sawDockerManifest = true;
    }
    await piped;
  } catch (e) {
    if (isOciError(e)) throw e;
    throw new OciError('missing-layout', `${path}: not a readable tar archive (${(e as Error).message})`);
  }
  if (!sawAnything) throw new OciError('missing-layout', `${path}: empty tar archive`);
  if (sawIndex) return 'oci-archive';
  if (sawDockerManifest) return 'docker-archive';
  throw new OciError('missing-layout', `${path}: tar archive has neither index.json nor manifest.json`);
}

function isContainedLink(rel: string, target: string): boolean {
  if (target === '' || target.startsWith('/')) return false;
  const resolved = posix.normalize(posix.join(posix.dirname(rel), target));
  return resolved !== '..' && !resolved.startsWith('../');
}

/** Unpacks an image archive (regular files and directories only) into dest, within the budget. */
export async function unpackImageArchive(path: string, dest: string, budget: UnpackBudget): Promise<void> {
  const extract = tar.extract();
  const piped = pipeline([...(await tarSource(path)), extract]);
  piped.catch(() => undefined);
  try {
    for await (const entry of extract) {
      const h = entry.header;
      budget.addEntry(h.name);
      const rel = normalizeEntryPath(h.name);
      if (h.type === 'file' && rel !== '') {
        budget.addBytes(h.size ?? 0, h.name);
        const abs = join(dest, rel);
        mkdirSync(dirname(abs), { recursive: true });
        await pipeline(entry, createWriteStream(abs));
      } else {
        // skopeo's docker-archive links <hex>/layer.tar to ../<hex>.tar: keep relative links that
        // stay inside the archive; directories are implied by the files.
        if (h.type === 'symlink' && rel !== '' && isContainedLink(rel, h.linkname ?? '')) {
          const abs = join(dest, rel);
          mkdirSync(dirname(abs), { recursive: true });
          symlinkSync(h.linkname ?? '', abs);
        }
        entry.resume();
      }
    }
    await piped;
  } catch (e) {
    extract.destroy();
    if (isOciError(e)) throw e;
    throw new OciError('missing-layout', `${path}: cannot read the image archive (${(e as Error).message})`);
  }
}
