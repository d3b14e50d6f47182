/**
 * Cached guest artifacts: `ensureGuestArtifacts({arch})` returns the kernel, initramfs and root disk
 * for an architecture, building them on first use into
 * `${NEONVM_CACHE:-~/.cache/neonvm}/guest-<version>-<arch>/`.
 *
 * The version is a content hash of everything that goes into the build recipe (generated scripts,
 * module list, agent sources), so editing the recipe rebuilds and an unchanged recipe never does.
 * Debian package updates (a new kernel ABI) do not change it: delete the cache dir to pick them up.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { GuestArch, archInfo, hostGuestArch } from './arch';
import { ARTIFACT_FILES, BuildManifest, DEBIAN_BINARIES, ROOT_DISK_SIZE_MIB, buildGuest } from './build';
import { cacheRoot, ensureCacheDir } from '../host';
import { initramfsInit } from './guest-scripts';
import { rootfsLayout } from './rootfs-layout';
import { guestModules } from './kernel-modules';

/** Bump when the build changes in a way the hashed inputs do not show (e.g. build.ts logic). */
const RECIPE_REVISION = 3;

export interface GuestArtifacts {
  readonly arch: GuestArch;
  readonly version: string;
  readonly dir: string;
  /** Uncompressed ELF kernel (amd64) or Image (arm64), for `-kernel`. */
  readonly kernel: string;
  /** gzip'd newc cpio, for `-initrd`. */
  readonly initramfs: string;
  /** qcow2 ext4 root disk (read-only base: boot from an overlay, see createOverlay). */
  readonly rootDisk: string;
  /** The directory the root disk was made from (for inspection and image merging). */
  readonly rootfsDir: string;
  readonly manifest: BuildManifest;
}

export interface EnsureGuestOptions {
  readonly arch?: GuestArch;
  /** Defaults to NEONVM_CACHE or ~/.cache/neonvm. */
  readonly cacheDir?: string;
  /** Build progress lines; default: stderr. */
  readonly progress?: (line: string) => void;
}

/** Finds guest/agent from this module's location (source tree or compiled lib/). */
export function findAgentDir(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'guest', 'agent');
    if (existsSync(join(candidate, 'go.mod'))) return candidate;
    if (dirname(dir) === dir) throw new Error(`guest/agent not found above ${from}`);
  }
}

function agentSources(agentDir: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.go$|^go\.(mod|sum)$/.test(e.name) && !e.name.endsWith('_test.go')) out.push(p);
    }
  };
  walk(agentDir);
  return out.sort();
}

/** Content hash of the recipe for arch (12 hex digits). */
export function guestVersion(arch: GuestArch, agentDir: string = findAgentDir()): string {
  const a = archInfo(arch);
  const h = createHash('sha256');
  const inputs: Record<string, string> = {
    revision: String(RECIPE_REVISION),
    arch: JSON.stringify(a),
    rootDiskMiB: String(ROOT_DISK_SIZE_MIB),
    modules: JSON.stringify(guestModules(arch)),
    binaries: JSON.stringify(DEBIAN_BINARIES),
    initramfsInit: initramfsInit(),
    // Every generated file of the root filesystem (inittab, scripts, /etc), with modes and links.
    rootfs: JSON.stringify(rootfsLayout(a)),
  };
  for (const [k, v] of Object.entries(inputs)) h.update(`${k}\0${v}\0`);
  for (const f of agentSources(agentDir))
    h.update(`${relative(agentDir, f)}\0`)
      .update(readFileSync(f))
      .update('\0');
  return h.digest('hex').slice(0, 12);
}

export function guestArtifactsDir(arch: GuestArch, version: string, cacheDir: string = cacheRoot()): string {
  return join(cacheDir, `guest-${version}-${arch}`);
}

/**
 * CONFIG_HZ of a kernel built here: its manifest lies next to it (in the cache directory, or next to
 * the runner image's /vm/kernel links) or next to the file a symlink names; undefined for a kernel
 * from elsewhere.
 */
export function kernelHz(kernelPath: string): number | undefined {
  try {
    const dir = existsSync(join(dirname(kernelPath), ARTIFACT_FILES.manifest))
      ? dirname(kernelPath)
      : dirname(realpathSync(kernelPath));
    const manifest = readFileSync(join(dir, ARTIFACT_FILES.manifest), 'utf8');
    return (JSON.parse(manifest) as BuildManifest).kernelHz;
  } catch {
    return undefined;
  }
}

function artifactsIn(dir: string, arch: GuestArch, version: string): GuestArtifacts {
  return {
    arch,
    version,
    dir,
    kernel: join(dir, ARTIFACT_FILES.kernel),
    initramfs: join(dir, ARTIFACT_FILES.initramfs),
    rootDisk: join(dir, ARTIFACT_FILES.rootDisk),
    rootfsDir: join(dir, ARTIFACT_FILES.rootfsDir),
    manifest: JSON.parse(readFileSync(join(dir, ARTIFACT_FILES.manifest), 'utf8')) as BuildManifest,
  };
}

/** Concurrent callers in one process share one build; other processes wait on the lock file. */
const inFlight = new Map<string, Promise<GuestArtifacts>>();

export function ensureGuestArtifacts(opts: EnsureGuestOptions = {}): Promise<GuestArtifacts> {
  const arch = opts.arch ?? hostGuestArch();
  const agentDir = findAgentDir();
  const version = guestVersion(arch, agentDir);
  const dir = guestArtifactsDir(arch, version, opts.cacheDir);
  let p = inFlight.get(dir);
  if (!p) {
    const progress = opts.progress ?? ((line: string) => process.stderr.write(line + '\n'));
    p = ensureCacheDir(
      dir,
      (tmp) =>
        buildGuest({ arch: archInfo(arch), outDir: tmp, agentDir, version, progress }).then(() => undefined),
      (pid) => progress(`guest-build: waiting for pid ${pid}, which is building ${dir}`),
    ).then(() => artifactsIn(dir, arch, version));
    inFlight.set(dir, p);
    p.catch(() => inFlight.delete(dir));
  }
  return p;
}
