/**
 * Copying dynamically linked Debian binaries into the guest's /neonvm tree: each binary gets its
 * shared-library closure in /neonvm/lib and is patched (patchelf) to use /neonvm/lib's loader and
 * libraries, so it runs whatever libc (if any) the root filesystem image has.
 */
import { copyFile, lstat, readlink, chmod } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { ArchInfo } from './arch';
import { parseInterpreter, parseNeeded } from './elf';
import { runText } from '../host';

export const GUEST_LIB_DIR = '/neonvm/lib';

/** Resolves a path inside the sysroot, following symlinks (absolute targets are re-rooted). */
async function realPathIn(sysroot: string, path: string): Promise<string | undefined> {
  let current = path;
  for (let hops = 0; hops < 40; hops++) {
    let st;
    try {
      st = await lstat(current);
    } catch {
      return undefined;
    }
    if (!st.isSymbolicLink()) return current;
    const target = await readlink(current);
    current = isAbsolute(target) ? join(sysroot, target) : resolve(dirname(current), target);
  }
  throw new Error(`symlink loop at ${path}`);
}

export class LibraryResolver {
  private readonly searchDirs: readonly string[];

  constructor(
    private readonly sysroot: string,
    arch: ArchInfo,
  ) {
    this.searchDirs = [`lib/${arch.triplet}`, `usr/lib/${arch.triplet}`, 'lib', 'usr/lib'].map((d) =>
      join(sysroot, d),
    );
  }

  async find(soname: string): Promise<string> {
    for (const dir of this.searchDirs) {
      const real = await realPathIn(this.sysroot, join(dir, soname));
      if (real) return real;
    }
    throw new Error(
      `shared library ${soname} not found in the downloaded packages (missing a lib* dependency?)`,
    );
  }
}

/**
 * Installs `source` as `<guestRoot>/neonvm/bin/<name>` with its libraries. `copied` tracks sonames
 * already in /neonvm/lib across calls.
 */
export async function installDynamicBinary(
  source: string,
  name: string,
  guestRoot: string,
  resolver: LibraryResolver,
  copied: Set<string>,
): Promise<void> {
  const dest = join(guestRoot, 'neonvm/bin', name);
  await copyFile(source, dest);
  await chmod(dest, 0o755);
  const interp = parseInterpreter(await runText(['readelf', '-lW', source]));
  if (!interp) return; // static
  const loader = basename(interp);
  await copyLibrary(loader, guestRoot, resolver, copied);
  const queue = parseNeeded(await runText(['readelf', '-dW', source]));
  while (queue.length > 0) {
    const soname = queue.shift()!;
    if (copied.has(soname)) continue;
    const path = await copyLibrary(soname, guestRoot, resolver, copied);
    queue.push(...parseNeeded(await runText(['readelf', '-dW', path])));
  }
  // DT_RPATH (not RUNPATH: --force-rpath) also applies to the libraries' own dependencies.
  await runText([
    'patchelf',
    '--set-interpreter',
    `${GUEST_LIB_DIR}/${loader}`,
    '--force-rpath',
    '--set-rpath',
    GUEST_LIB_DIR,
    dest,
  ]);
}

async function copyLibrary(
  soname: string,
  guestRoot: string,
  resolver: LibraryResolver,
  copied: Set<string>,
): Promise<string> {
  const path = await resolver.find(soname);
  if (!copied.has(soname)) {
    await copyFile(path, join(guestRoot, 'neonvm/lib', soname));
    copied.add(soname);
  }
  return path;
}
