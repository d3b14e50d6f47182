/**
 * A Debian userland without root or Docker: resolve the packages' shared-library closure, download
 * the .debs into a cache (by exact file name from `apt-get download --print-uris`, so a cached
 * file is never a stale version) and unpack them with `dpkg-deb -x` into a staging directory, with
 * each package's control data in `/var/lib/dpkg/status.d/` (what image scanners read, as distroless
 * images record theirs: `dpkg-deb -x` runs no dpkg database).
 *
 * A selection's `backports` packages come from bookworm-backports through a private apt configuration
 * (its own sources list and lists under the cache; the machine's apt setup is not touched), at the
 * version backports serves when the image is built; their libraries from bookworm like the rest.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { withLibraryClosure, extractDeb, isLibraryPackage, runText } from '../host';
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

/** Downloads `names` with `apt` (argv before the names) into `cacheDir` unless cached; returns the files. */
async function download(
  apt: readonly string[],
  names: readonly string[],
  cacheDir: string,
  what: string,
  progress: (line: string) => void,
): Promise<string[]> {
  const wanted = parsePrintUris(await runText([...apt, '--print-uris', ...names]));
  await mkdir(cacheDir, { recursive: true });
  const missing = wanted.filter((d) => !existsSync(join(cacheDir, d.file)));
  if (missing.length > 0) {
    progress(`${what}: downloading ${missing.length} of ${wanted.length} packages`);
    // Download into a temp dir and move complete files in: an interrupted download never looks cached.
    const tmp = await mkdtemp(join(cacheDir, '.download-'));
    try {
      await runText([...apt, ...names], { cwd: tmp });
      for (const f of await readdir(tmp))
        if (f.endsWith('.deb')) await rename(join(tmp, f), join(cacheDir, f));
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  } else progress(`${what}: ${wanted.length} packages cached`);
  return wanted.map((d) => join(cacheDir, d.file));
}

/** The .deb files of a selection, downloaded once into `cacheDir` and reused after. */
export async function fetchDebs(
  selection: DebianSelection,
  arch: GuestArch,
  cacheDir: string,
  progress: (line: string) => void,
): Promise<string[]> {
  const backported = selection.backports
    ? await fetchBackports(selection.backports, arch, cacheDir, progress)
    : { debs: [], libraries: [] };
  const packages = await withLibraryClosure([...selection.packages, ...backported.libraries], arch);
  const names = [...packages.map((p) => `${p}:${arch}`), ...selection.archAll];
  const debs = await download(APT_DOWNLOAD, names, cacheDir, `debian ${arch}`, progress);
  return [...debs, ...backported.debs].sort();
}

/** A .deb's control fields, as dpkg keeps them for an installed package. */
async function controlOf(deb: string): Promise<string> {
  return (await runText(['dpkg-deb', '-f', deb])).trimEnd() + '\n';
}

/** `Package`/`Version`/`Depends` of control data (pure). */
export function controlField(control: string, field: string): string | undefined {
  const m = new RegExp(`^${field}: (.*)$`, 'm').exec(control);
  return m?.[1]?.trim();
}

/** Package names in a Depends field, alternatives included, versions and arch qualifiers dropped (pure). */
export function dependsNames(depends: string): string[] {
  return depends
    .split(/[,|]/)
    .map((d) => d.trim().split(/[\s(]/)[0]!.replace(/:\w+$/, ''))
    .filter((d) => d !== '');
}

/**
 * Unpacks the .debs (in sorted order, so overlapping files resolve the same way every time) and
 * records each in `var/lib/dpkg/status.d/<package>`: what an SBOM or vulnerability scanner (syft,
 * trivy, grype) reads to list an image's Debian packages and their versions.
 */
export async function unpackDebs(debs: readonly string[], root: string): Promise<void> {
  await mkdir(root, { recursive: true });
  const statusDir = join(root, 'var', 'lib', 'dpkg', 'status.d');
  await mkdir(statusDir, { recursive: true });
  for (const deb of [...debs].sort()) {
    await extractDeb(deb, root);
    const control = await controlOf(deb);
    const name = controlField(control, 'Package');
    if (!name) throw new Error(`${deb}: no Package field in its control data`);
    await writeFile(join(statusDir, name), control);
  }
}

/** Reads the versions the image records (`status.d`) of `packages` (pure over the files' contents). */
export function recordedVersions(
  controls: ReadonlyMap<string, string>,
  packages: readonly string[],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of packages) {
    const v = controls.get(p) && controlField(controls.get(p)!, 'Version');
    if (v) out[p] = v;
  }
  return out;
}

const BACKPORTS_SUITE = 'bookworm-backports';

/**
 * The backports packages of a selection: the private apt configuration is refreshed on every build
 * (`apt-get update`, ~0.7 MB), so the version is whatever backports serves now; a package backports
 * no longer has (or never had for this architecture) fails the build naming it, never falls back to
 * another QEMU silently. Every architecture-specific package must have one version (QEMU's modules and
 * qemu-img of the emulator's own build). Returns the .debs and the library packages they depend on
 * (bookworm's, resolved with the rest).
 */
async function fetchBackports(
  backports: NonNullable<DebianSelection['backports']>,
  arch: GuestArch,
  cacheDir: string,
  progress: (line: string) => void,
): Promise<{ debs: string[]; libraries: string[] }> {
  const mirror = process.env.NEONVM_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';
  const aptDir = join(cacheDir, '..', `apt-${BACKPORTS_SUITE}-${arch}`);
  await mkdir(join(aptDir, 'lists', 'partial'), { recursive: true });
  await mkdir(join(aptDir, 'archives', 'partial'), { recursive: true });
  const sources = join(aptDir, 'sources.list');
  await writeFile(
    sources,
    `deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${mirror} ${BACKPORTS_SUITE} main\n`,
  );
  const status = join(aptDir, 'status');
  await writeFile(status, '');
  const opts = [
    '-o',
    `Dir::Etc::SourceList=${sources}`,
    '-o',
    'Dir::Etc::SourceParts=/dev/null',
    '-o',
    `Dir::State::Lists=${join(aptDir, 'lists')}`,
    // Nothing installed: the candidate is backports' version, whatever the machine has.
    '-o',
    `Dir::State::status=${status}`,
    '-o',
    `Dir::Cache=${aptDir}`,
    '-o',
    'APT::Sandbox::User=root',
    '-o',
    `APT::Architecture=${arch}`,
  ];
  progress(`debian ${arch}: reading ${BACKPORTS_SUITE} (${mirror})`);
  await runText(['apt-get', '-q', ...opts, 'update']);
  const names = [...backports.packages.map((p) => `${p}:${arch}`), ...backports.archAll];
  for (const n of names) {
    const policy = await runText(['apt-cache', ...opts, 'policy', n]);
    if (!/Candidate: (?!\(none\))/.test(policy))
      throw new Error(
        `${BACKPORTS_SUITE} (${mirror}) has no ${n} for ${arch}: the runner image's QEMU cannot come from backports ` +
          `(build with --qemu debian for Debian 12's QEMU 7.2)`,
      );
  }
  const debs = await download(
    ['apt-get', 'download', '-q', ...opts],
    names,
    join(cacheDir, BACKPORTS_SUITE),
    `${BACKPORTS_SUITE} ${arch}`,
    progress,
  );
  const controls = new Map<string, string>();
  for (const deb of debs) {
    const control = await controlOf(deb);
    controls.set(controlField(control, 'Package') ?? deb, control);
  }
  const versions = new Set(backports.packages.map((p) => controlField(controls.get(p) ?? '', 'Version')));
  if (versions.size !== 1)
    throw new Error(
      `${BACKPORTS_SUITE} serves ${backports.packages.join(', ')} at different versions (${[...versions].join(', ')}); ` +
        'retry once the archive is consistent',
    );
  progress(
    `debian ${arch}: ${Object.entries(
      recordedVersions(controls, [...backports.packages, ...backports.archAll]),
    )
      .map(([p, v]) => `${p} ${v}`)
      .join(', ')} from ${BACKPORTS_SUITE}`,
  );
  const libraries = new Set<string>();
  for (const control of controls.values())
    for (const field of ['Depends', 'Pre-Depends'])
      for (const dep of dependsNames(controlField(control, field) ?? ''))
        if (isLibraryPackage(dep)) libraries.add(dep);
  return { debs, libraries: [...libraries].sort() };
}
