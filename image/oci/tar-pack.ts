/**
 * Feeding canonical entries into a tar-stream pack with normalised headers: owner 0:0, no user or
 * group names, one mtime. Shared by layer blobs and docker-save archives.
 */
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type * as tar from 'tar-stream';
import type { LayerEntry } from './layer-entries';

function writeEntry(pack: tar.Pack, e: LayerEntry, mtime: Date): Promise<void> {
  const base = { name: e.path, mtime, uid: 0, gid: 0, uname: '', gname: '' };
  return new Promise((resolve, reject) => {
    const done = (err?: Error | null) => (err ? reject(err) : resolve());
    switch (e.kind) {
      case 'dir':
        pack.entry({ ...base, name: `${e.path}/`, type: 'directory', mode: e.mode ?? 0o755 }, done);
        return;
      case 'file':
        pack.entry({ ...base, type: 'file', mode: e.mode ?? 0o644 }, Buffer.from(e.content), done);
        return;
      case 'symlink':
        pack.entry({ ...base, type: 'symlink', mode: 0o777, linkname: e.target }, done);
        return;
      case 'hardlink':
        pack.entry({ ...base, type: 'link', mode: 0o644, linkname: e.target }, done);
        return;
      case 'host-file': {
        const sink = pack.entry({ ...base, type: 'file', mode: e.mode ?? 0o644, size: e.size }, done);
        pipeline(createReadStream(e.source), sink).catch(reject);
        return;
      }
    }
  });
}

/** Writes the entries (already in canonical order) one after the other, then finalizes the pack. */
export async function packEntries(
  pack: tar.Pack,
  entries: readonly LayerEntry[],
  mtime: Date,
): Promise<void> {
  for (const e of entries) await writeEntry(pack, e, mtime);
  pack.finalize();
}
