/**
 * Getting guest binaries from Debian: resolve package names with apt-cache, fetch .debs with
 * `apt-get download` (works unprivileged, no installation) and unpack them with `dpkg-deb -x`.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isLibraryPackage, parseAptDepends } from './apt-depends';
import { runText } from '../process/run';

const DEPENDS_FLAGS = [
  '--no-recommends',
  '--no-suggests',
  '--no-conflicts',
  '--no-breaks',
  '--no-replaces',
  '--no-enhances',
];

function qualify(pkg: string, debArch: string): string {
  return `${pkg}:${debArch}`;
}

function unqualify(pkg: string, debArch: string): string {
  return pkg.endsWith(`:${debArch}`) ? pkg.slice(0, -debArch.length - 1) : pkg;
}

/** The concrete kernel image package a metapackage (e.g. linux-image-cloud-amd64) points at. */
export async function resolveKernelPackage(metapackage: string, debArch: string): Promise<string> {
  const deps = parseAptDepends(
    await runText(['apt-cache', 'depends', ...DEPENDS_FLAGS, qualify(metapackage, debArch)]),
  );
  const image = [...deps.values()]
    .flat()
    .map((p) => unqualify(p, debArch))
    .find((p) => p.startsWith('linux-image-'));
  if (!image) throw new Error(`${metapackage}: no linux-image-* dependency (run apt-get update?)`);
  return image;
}

/**
 * The packages plus every shared-library package they need, transitively. Non-library
 * dependencies (adduser, debconf, iproute2...) are not followed: the guest only needs the
 * binaries' libraries.
 */
export async function withLibraryClosure(roots: readonly string[], debArch: string): Promise<string[]> {
  const seen = new Set<string>(roots);
  let frontier = [...roots];
  while (frontier.length > 0) {
    const out = await runText([
      'apt-cache',
      'depends',
      ...DEPENDS_FLAGS,
      ...frontier.map((p) => qualify(p, debArch)),
    ]);
    const next: string[] = [];
    for (const deps of parseAptDepends(out).values()) {
      for (const raw of deps) {
        const dep = unqualify(raw, debArch);
        if (isLibraryPackage(dep) && !seen.has(dep)) {
          seen.add(dep);
          next.push(dep);
        }
      }
    }
    frontier = next;
  }
  return [...seen].sort();
}

/** Downloads the packages' .deb files into dir and returns their paths. */
export async function downloadPackages(
  packages: readonly string[],
  debArch: string,
  dir: string,
): Promise<string[]> {
  // APT::Sandbox::User=root: the temp dir is not readable by the _apt user, and we only download.
  await runText(
    [
      'apt-get',
      'download',
      '-q',
      '-o',
      'APT::Sandbox::User=root',
      ...packages.map((p) => qualify(p, debArch)),
    ],
    { cwd: dir },
  );
  return (await readdir(dir)).filter((f) => f.endsWith('.deb')).map((f) => join(dir, f));
}

/** Unpacks a .deb's files (no maintainer scripts run) into root. */
export async function extractDeb(deb: string, root: string): Promise<void> {
  await runText(['dpkg-deb', '-x', deb, root]);
}

/** "name version" of a downloaded .deb, for the build manifest. */
export async function debIdentity(deb: string): Promise<string> {
  return (await runText(['dpkg-deb', '-W', '--showformat=${Package} ${Version}', deb])).trim();
}
