/**
 * The Debian guest image (like upstream's `neondatabase/vm-debian:11`, from Debian 12 packages):
 * `debootstrap --variant=minbase bookworm` plus a few packages, then `buildVmImage` → the local
 * image store under `neondatabase/vm-debian:11` and `neonvm/vm-debian:12`.
 *
 * Both steps are cached: the root filesystem in `${NEONVM_CACHE}/debian-bookworm-minbase-r<N>/`
 * (built in a temp dir, renamed when complete), the image in the store, rebuilt only when the
 * guest build's version or the root filesystem changed.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ImageStore } from '../../cluster/image-store';
import { guestVersion } from '../../guest';
import { ensureCacheDir, cacheRoot, run } from '../../host';
import { buildVmImage, BuildVmImageResult } from '../builder/build';
import { VM_DISK_FILE, VM_IMAGE_METADATA_FILE } from '../builder/vm-disk-store';
import { AptSource, debianMirror, parseDeb822Sources, parseSourcesList } from './apt-mirror';

export const DEBIAN_SUITE = 'bookworm';
/** Bump when the package list or the clean-up changes. */
const ROOTFS_REVISION = 1;
export const DEBIAN_IMAGE_REFS = ['neondatabase/vm-debian:11', 'neonvm/vm-debian:12'] as const;

/** Beyond minbase (which has apt): time sync, an SSH client/server toolset, network tools. */
export const DEBIAN_EXTRA_PACKAGES = [
  'chrony',
  'dropbear-bin',
  'openssh-client',
  'iproute2',
  'procps',
  'ca-certificates',
  'netbase',
];

export function debianRootfsDir(cacheDir: string = cacheRoot()): string {
  return join(cacheDir, `debian-${DEBIAN_SUITE}-minbase-r${ROOTFS_REVISION}`);
}

function readAptSources(): AptSource[] {
  const sources: AptSource[] = [];
  if (existsSync('/etc/apt/sources.list'))
    sources.push(...parseSourcesList(readFileSync('/etc/apt/sources.list', 'utf8')));
  const dir = '/etc/apt/sources.list.d';
  if (existsSync(dir)) {
    for (const f of readdirSync(dir).sort()) {
      const text = readFileSync(join(dir, f), 'utf8');
      if (f.endsWith('.sources')) sources.push(...parseDeb822Sources(text));
      else if (f.endsWith('.list')) sources.push(...parseSourcesList(text));
    }
  }
  return sources;
}

export function debianMirrorUrl(env: NodeJS.ProcessEnv = process.env): string {
  return (
    env.NEONVM_DEBIAN_MIRROR || debianMirror(readAptSources(), DEBIAN_SUITE) || 'http://deb.debian.org/debian'
  );
}

export interface EnsureDebianOptions {
  readonly cacheDir?: string;
  readonly store?: ImageStore;
  readonly progress?: (line: string) => void;
  /** Rebuild the image even if the store has a current one. */
  readonly force?: boolean;
}

/** debootstrap runs package maintainer scripts in a chroot: root only. */
export async function ensureDebianRootfs(opts: EnsureDebianOptions = {}): Promise<string> {
  const progress = opts.progress ?? ((l: string) => process.stderr.write(`${l}\n`));
  const dir = debianRootfsDir(opts.cacheDir);
  return ensureCacheDir(dir, async (tmp) => {
    if (process.getuid?.() !== 0)
      throw new Error('debootstrap needs root (it chroots to run package scripts)');
    const mirror = debianMirrorUrl();
    const started = Date.now();
    progress(`debian-rootfs: debootstrap --variant=minbase ${DEBIAN_SUITE} from ${mirror} (about 2 minutes)`);
    const rootfs = join(tmp, 'rootfs');
    await run([
      'debootstrap',
      '--variant=minbase',
      `--include=${DEBIAN_EXTRA_PACKAGES.join(',')}`,
      DEBIAN_SUITE,
      rootfs,
      mirror,
    ]);
    progress('debian-rootfs: cleaning apt caches and host files');
    await run([
      'sh',
      '-c',
      'rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/* "$1"/var/log/*.log "$1"/tmp/*',
      'sh',
      rootfs,
    ]);
    // debootstrap copies the host's resolv.conf and hostname; the guest's DHCP client writes its own.
    await writeFile(join(rootfs, 'etc/resolv.conf'), '');
    await writeFile(join(rootfs, 'etc/hostname'), 'vm-debian\n');
    await writeFile(join(rootfs, 'etc/machine-id'), '');
    progress(`debian-rootfs: done in ${Math.round((Date.now() - started) / 1000)}s`);
  }).then((d) => join(d, 'rootfs'));
}

interface StoredMetadata {
  readonly source?: string;
  readonly guestVersion?: string;
}

/** The stored image's metadata if every reference points at a disk that is still there. */
function currentImage(store: ImageStore, rootfs: string): StoredMetadata | undefined {
  let meta: StoredMetadata | undefined;
  for (const ref of DEBIAN_IMAGE_REFS) {
    const dir = store.resolve(ref)?.files;
    if (!dir || !existsSync(join(dir, VM_DISK_FILE))) return undefined;
    try {
      meta = JSON.parse(readFileSync(join(dir, VM_IMAGE_METADATA_FILE), 'utf8')) as StoredMetadata;
    } catch {
      return undefined;
    }
  }
  return meta?.source === rootfs ? meta : undefined;
}

export interface DebianImage {
  readonly refs: readonly string[];
  readonly disk: string;
  readonly rootfs: string;
  /** Undefined when the cached image was reused. */
  readonly build?: BuildVmImageResult;
}

export async function ensureDebianImage(opts: EnsureDebianOptions = {}): Promise<DebianImage> {
  const progress = opts.progress ?? ((l: string) => process.stderr.write(`${l}\n`));
  const store = opts.store ?? new ImageStore();
  const rootfs = await ensureDebianRootfs(opts);
  const current = currentImage(store, rootfs);
  if (!opts.force && current?.guestVersion === guestVersion('amd64')) {
    const disk = join(store.resolve(DEBIAN_IMAGE_REFS[0])!.files!, VM_DISK_FILE);
    progress(`debian-image: ${DEBIAN_IMAGE_REFS.join(', ')} up to date (${disk})`);
    return { refs: DEBIAN_IMAGE_REFS, disk, rootfs };
  }
  const build = await buildVmImage({
    source: rootfs,
    tags: DEBIAN_IMAGE_REFS,
    platform: { os: 'linux', architecture: 'amd64' },
    store,
    cacheDir: opts.cacheDir,
    progress,
  });
  return { refs: DEBIAN_IMAGE_REFS, disk: build.disk!, rootfs, build };
}

/** Removes the cached root filesystem (the next ensure rebuilds it). */
export async function removeDebianRootfs(cacheDir?: string): Promise<void> {
  await rm(debianRootfsDir(cacheDir), { recursive: true, force: true });
}
