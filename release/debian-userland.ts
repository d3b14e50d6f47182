/**
 * A Debian userland without root or Docker: resolve the packages' shared-library closure, download
 * the .debs into a cache (by exact file name from `apt-get download --print-uris`, so a cached
 * file is never a stale version) and unpack them with `dpkg-deb -x` into a staging directory.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { withLibraryClosure, extractDeb, runText } from '../host';
import type { GuestArch } from '../guest';
import type { DebianSelection } from './image-plan';

const APT_DOWNLOAD = ['apt-get', 'download', '-q', '-o', 'APT::Sandbox::User=root'];

export interface DebFile {
  readonly file: string;
  readonly size: number;
}

/** Parses `apt-get download --print-uris` lines: `'<url>' <file> <size> SHA256:<hex>`. Pure. */
export function parsePrintUris(output: string): DebFile[] {
  const out: DebFile[] = [];
  for (const line of output.split('\n')) {
    const m = /^'[^']+' (\S+\.deb) (\d+) /.exec(line.trim());
    if (m) out.push({ file: m[1], size: Number(m[2]) });
  }
  return out;
}

/** The .deb files of a selection, downloaded once into `cacheDir` and reused after. */
export async function fetchDebs(
  selection: DebianSelection,
  arch: GuestArch,
  cacheDir: string,
  progress: (line: string) => void,
): Promise<string[]> {
  const packages = await withLibraryClosure(selection.packages, arch);
  const names = [...packages.map((p) => `${p}:${arch}`), ...selection.archAll];
  const wanted = parsePrintUris(await runText([...APT_DOWNLOAD, '--print-uris', ...names]));
  await mkdir(cacheDir, { recursive: true });
  const missing = wanted.filter((d) => !existsSync(join(cacheDir, d.file)));
  if (missing.length > 0) {
    progress(`debian ${arch}: downloading ${missing.length} of ${wanted.length} packages`);
    // Download into a temp dir and move complete files in: an interrupted download never looks cached.
    const tmp = await mkdtemp(join(cacheDir, '.download-'));
    try {
      await runText([...APT_DOWNLOAD, ...names], { cwd: tmp });
      for (const f of await readdir(tmp))
        if (f.endsWith('.deb')) await rename(join(tmp, f), join(cacheDir, f));
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  } else progress(`debian ${arch}: ${wanted.length} packages cached`);
  return wanted.map((d) => join(cacheDir, d.file)).sort();
}

/** Unpacks the .debs (in sorted order, so overlapping files resolve the same way every time). */
export async function unpackDebs(debs: readonly string[], root: string): Promise<void> {
  await mkdir(root, { recursive: true });
  for (const deb of [...debs].sort()) await extractDeb(deb, root);
}
