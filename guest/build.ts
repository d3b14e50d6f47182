/**
 * The guest build: Debian packages → uncompressed kernel, initramfs (busybox + modules) and a
 * qcow2 root disk with /neonvm (busybox, guest agent, dropbear + sftp-server, chrony, e2fsprogs' resize2fs
 * and tune2fs, quota tools, init scripts).
 * Needs no root, mounts or loop devices: mkfs.ext4 -d builds the filesystem from a directory and
 * debugfs fixes ownership. ensureGuestArtifacts is the cached entry point.
 */
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ArchInfo } from './arch';
import { decompressCommand, parseBzImage } from './bzimage';
import { CpioEntry, writeCpio } from './cpio';
import {
  debIdentity,
  downloadPackages,
  extractDeb,
  resolveKernelPackage,
  withLibraryClosure,
  run,
  runText,
} from '../host';
import { chownImageToRoot } from './ext4-ownership';
import { initramfsInit } from './guest-scripts';
import { guestModules, normalizeModuleName, orderModules, parseModinfoDepends } from './kernel-modules';
import { FsEntry, rootfsLayout } from './rootfs-layout';
import { LibraryResolver, installDynamicBinary } from './sysroot';

/** File names inside a guest artifacts directory. */
export const ARTIFACT_FILES = {
  kernel: 'vmlinux',
  initramfs: 'initramfs.cpio.gz',
  rootDisk: 'rootdisk.qcow2',
  rootfsDir: 'rootfs',
  manifest: 'manifest.json',
} as const;

/** Virtual size of the root disk image; the runner grows it (qemu-img resize) and the guest runs resize2fs. */
export const ROOT_DISK_SIZE_MIB = 512;

/** Binaries taken from Debian packages: [package, candidate paths in the package, name in /neonvm/bin]. */
export const DEBIAN_BINARIES: ReadonlyArray<readonly [string, readonly string[], string]> = [
  ['dropbear-bin', ['usr/sbin/dropbear'], 'dropbear'],
  ['dropbear-bin', ['usr/bin/dropbearkey'], 'dropbearkey'],
  ['chrony', ['usr/sbin/chronyd'], 'chronyd'],
  ['chrony', ['usr/bin/chronyc'], 'chronyc'],
  ['e2fsprogs', ['sbin/resize2fs', 'usr/sbin/resize2fs'], 'resize2fs'],
  ['e2fsprogs', ['sbin/tune2fs', 'usr/sbin/tune2fs'], 'tune2fs'],
  // scp/sftp: dropbear runs `/usr/lib/sftp-server` (a link to this, see rootfs-layout.ts).
  ['openssh-sftp-server', ['usr/lib/openssh/sftp-server'], 'sftp-server'],
  // Project quotas on emptyDisks (enableQuotas): set-disk-quota runs setquota.
  ['quota', ['usr/sbin/setquota'], 'setquota'],
  ['quota', ['usr/sbin/repquota'], 'repquota'],
];

/** Busybox applets the initramfs /init uses (it has no --install step, to save forks). */
const INITRAMFS_APPLETS = [
  'sh',
  'mount',
  'umount',
  'insmod',
  'mkdir',
  'switch_root',
  'usleep',
  'findfs',
  'echo',
];

/** Applets linked into /neonvm/bin when the busybox binary cannot be run on this host (foreign arch). */
const FALLBACK_APPLETS =
  `sh ash cat chmod cp date dd df dmesg echo env findfs free getty grep halt hostname id init ip
  kill ln ls mkdir mkswap mount mv nproc poweroff printf ps reboot rm sed sleep su swapoff swapon sync sysctl tail
  test touch udhcpc umount uname usleep vi wget`.split(/\s+/);

export interface BuildOptions {
  readonly arch: ArchInfo;
  /** Directory to fill (the cache's temp dir). */
  readonly outDir: string;
  /** guest/agent (Go module of the guest agent). */
  readonly agentDir: string;
  readonly version: string;
  readonly progress: (line: string) => void;
}

export interface BuildManifest {
  readonly version: string;
  readonly arch: string;
  readonly kernelRelease: string;
  readonly kernelCompression: string;
  /** CONFIG_HZ of the kernel (to compute `lpj=`, see loopsPerJiffy). */
  readonly kernelHz: number;
  readonly packages: readonly string[];
  readonly modules: readonly string[];
  readonly buildSeconds: number;
}

export async function buildGuest(opts: BuildOptions): Promise<BuildManifest> {
  const { arch, outDir, progress } = opts;
  const started = Date.now();
  const step = (n: number, what: string) =>
    progress(`guest-build [${n}/7] ${what} (${((Date.now() - started) / 1000).toFixed(1)}s)`);
  const work = join(outDir, '.work');
  const debs = join(work, 'debs');
  const sysroot = join(work, 'sysroot');
  await mkdir(debs, { recursive: true });
  await mkdir(sysroot, { recursive: true });

  step(1, `resolving Debian packages for ${arch.arch}`);
  const kernelPackage = await resolveKernelPackage(arch.kernelMetapackage, arch.arch);
  const userland = await withLibraryClosure(
    ['busybox-static', ...new Set(DEBIAN_BINARIES.map(([p]) => p))],
    arch.arch,
  );

  step(2, `downloading ${kernelPackage} and ${userland.length} packages`);
  const files = await downloadPackages([kernelPackage, ...userland], arch.arch, debs);
  const packages = await Promise.all(files.map(debIdentity));
  for (const deb of files) await extractDeb(deb, sysroot);

  step(3, 'extracting the uncompressed kernel');
  const kernel = await extractKernel(arch, sysroot, join(outDir, ARTIFACT_FILES.kernel));

  step(4, 'building the guest agent (go build)');
  const rootfs = join(outDir, ARTIFACT_FILES.rootfsDir);
  await materialize(rootfs, rootfsLayout(arch));
  await buildAgent(opts, join(rootfs, 'neonvm/bin/neonvmd'));

  step(5, 'assembling the root filesystem');
  await installBusybox(arch, sysroot, rootfs);
  const resolver = new LibraryResolver(sysroot, arch);
  const copied = new Set<string>();
  for (const [, candidates, name] of DEBIAN_BINARIES) {
    const source = candidates.map((c) => join(sysroot, c)).find((p) => existsSync(p));
    if (!source) throw new Error(`${name} not found in the downloaded packages (${candidates.join(', ')})`);
    await installDynamicBinary(source, name, rootfs, resolver, copied);
  }

  step(6, 'writing the initramfs');
  const modules = await writeInitramfs(arch, sysroot, kernel.release, join(outDir, ARTIFACT_FILES.initramfs));

  step(7, `making the ${ROOT_DISK_SIZE_MIB} MiB ext4 root disk`);
  const raw = join(work, 'rootdisk.raw');
  // prettier-ignore
  await run([
    'mkfs.ext4', '-q', '-F', '-L', 'vmroot', '-b', '4096', '-E', 'root_owner=0:0',
    '-d', rootfs, raw, `${ROOT_DISK_SIZE_MIB}M`,
  ]);
  await chownImageToRoot(raw, rootfs, work);
  // prettier-ignore
  await run([
    'qemu-img', 'convert', '-q', '-f', 'raw', '-O', 'qcow2', '-o', 'cluster_size=2M,lazy_refcounts=on',
    raw, join(outDir, ARTIFACT_FILES.rootDisk),
  ]);

  await rm(work, { recursive: true, force: true });
  const manifest: BuildManifest = {
    version: opts.version,
    arch: arch.arch,
    kernelRelease: kernel.release,
    kernelCompression: kernel.compression,
    kernelHz: kernel.hz,
    packages: packages.sort(),
    modules,
    buildSeconds: Math.round((Date.now() - started) / 100) / 10,
  };
  await writeFile(join(outDir, ARTIFACT_FILES.manifest), JSON.stringify(manifest, null, 2) + '\n');
  progress(`guest-build done in ${manifest.buildSeconds}s: kernel ${kernel.release} (${kernel.compression})`);
  return manifest;
}

async function extractKernel(
  arch: ArchInfo,
  sysroot: string,
  dest: string,
): Promise<{ release: string; compression: string; hz: number }> {
  const boot = join(sysroot, 'boot');
  const vmlinuz = (await readdir(boot)).find((f) => f.startsWith('vmlinuz-'));
  if (!vmlinuz) throw new Error(`no /boot/vmlinuz-* in the kernel package`);
  const release = vmlinuz.slice('vmlinuz-'.length);
  const config = await readFile(join(boot, `config-${release}`), 'utf8');
  const hz = Number(/^CONFIG_HZ=(\d+)$/m.exec(config)?.[1]);
  if (!hz) throw new Error(`no CONFIG_HZ in config-${release}`);
  const image = await readFile(join(boot, vmlinuz));
  if (arch.kernelFormat === 'Image') {
    // arm64: Debian ships the plain Image, which QEMU boots directly.
    await writeFile(dest, image);
    return { release, compression: 'none', hz };
  }
  const payload = parseBzImage(image);
  const elf = await run(decompressCommand(payload.compression), {
    input: image.subarray(payload.offset, payload.offset + payload.length),
  });
  if (payload.decompressedSize !== undefined && elf.length !== payload.decompressedSize) {
    throw new Error(
      `kernel decompressed to ${elf.length} bytes, the bzImage says ${payload.decompressedSize}`,
    );
  }
  await writeFile(dest, elf);
  return { release, compression: payload.compression, hz };
}

async function buildAgent(opts: BuildOptions, dest: string): Promise<void> {
  await run(['nice', '-n', '15', 'go', 'build', '-trimpath', '-ldflags=-s -w', '-o', dest, '.'], {
    cwd: opts.agentDir,
    env: { ...process.env, CGO_ENABLED: '0', GOOS: 'linux', GOARCH: opts.arch.arch },
  });
}

async function busyboxApplets(arch: ArchInfo, busybox: string): Promise<string[]> {
  if (process.arch !== arch.nodeArch) return FALLBACK_APPLETS;
  return (await runText([busybox, '--list'])).split('\n').filter((a) => a !== '' && a !== 'busybox');
}

async function installBusybox(arch: ArchInfo, sysroot: string, rootfs: string): Promise<void> {
  const src = join(sysroot, 'bin/busybox');
  const bin = join(rootfs, 'neonvm/bin');
  await copyFile(src, join(bin, 'busybox'));
  await chmod(join(bin, 'busybox'), 0o755);
  const present = new Set(await readdir(bin));
  for (const applet of await busyboxApplets(arch, src)) {
    // Our own scripts (blkid shim...) and binaries win over applets of the same name.
    if (!present.has(applet)) await symlink('busybox', join(bin, applet));
  }
}

async function writeInitramfs(
  arch: ArchInfo,
  sysroot: string,
  release: string,
  dest: string,
): Promise<string[]> {
  const modDir = join(sysroot, 'lib/modules', release);
  const index = new Map<string, string>();
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.name.endsWith('.ko')) index.set(normalizeModuleName(e.name.slice(0, -3)), p);
    }
  };
  await walk(join(modDir, 'kernel'));
  const builtin = new Set(
    (await readFile(join(modDir, 'modules.builtin'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((l) => normalizeModuleName(l.split('/').pop()!.replace(/\.ko$/, ''))),
  );
  // Read `depends=` only for the wanted modules and their dependencies (reading all 3000+ is slow).
  const deps = new Map<string, string[]>();
  const wanted = guestModules(arch.arch);
  const queue = wanted.map((m) => normalizeModuleName(m.name));
  while (queue.length > 0) {
    const name = queue.shift()!;
    const path = index.get(name);
    if (deps.has(name) || !path) continue;
    deps.set(name, parseModinfoDepends(await readFile(path)));
    queue.push(...deps.get(name)!);
  }
  const ordered = orderModules(wanted, (n) => deps.get(n) ?? [], new Set(index.keys()), builtin);

  const entries: CpioEntry[] = [
    ...['bin', 'dev', 'proc', 'sys', 'newroot', 'lib', 'lib/modules'].map((path) => ({
      kind: 'dir' as const,
      path,
    })),
    { kind: 'chardev', path: 'dev/console', major: 5, minor: 1 },
    { kind: 'file', path: 'bin/busybox', data: await readFile(join(sysroot, 'bin/busybox')), mode: 0o755 },
    ...INITRAMFS_APPLETS.map((a) => ({ kind: 'symlink' as const, path: `bin/${a}`, target: 'busybox' })),
    { kind: 'file', path: 'init', data: Buffer.from(initramfsInit()), mode: 0o755 },
    {
      kind: 'file',
      path: 'lib/modules/load.list',
      data: Buffer.from(ordered.map((m) => `${m.optional ? 'optional' : 'required'} ${m.name}\n`).join('')),
    },
  ];
  for (const m of ordered)
    entries.push({
      kind: 'file',
      path: `lib/modules/${m.name}.ko`,
      data: await readFile(index.get(m.name)!),
    });
  await writeFile(dest, gzipSync(writeCpio(entries), { level: 6 }));
  return ordered.map((m) => m.name);
}

/** Creates the FsEntry tree under root. */
export async function materialize(root: string, entries: readonly FsEntry[]): Promise<void> {
  await mkdir(root, { recursive: true });
  for (const e of entries) {
    const p = join(root, e.path);
    switch (e.kind) {
      case 'dir':
        await mkdir(p, { recursive: true });
        await chmod(p, e.mode ?? 0o755);
        break;
      case 'file':
        await writeFile(p, e.content);
        await chmod(p, e.mode ?? 0o644);
        break;
      case 'symlink':
        await symlink(e.target, p);
        break;
    }
  }
}
