/**
 * `buildVmImage`: source image or root filesystem → bootable qcow2 root disk with the NeonVM guest
 * added, stored in the local image store under image references and optionally written as a file,
 * an OCI layout and a docker-save archive holding `/disk.qcow2`.
 *
 * Every output is built in a temp location and renamed into place at the end, so a failure (bad
 * input, disk too small, Ctrl-C) leaves nothing partial in the store or the output paths.
 */
import { existsSync, statSync } from 'node:fs';
import { copyFile, mkdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ImageStore } from '../../cluster/image-store';
import { GUEST_ARCHES, ensureGuestArtifacts, type GuestArch } from '../../guest';
import {
  ANNOTATIONS,
  formatBytes,
  formatPlatform,
  hostPlatform,
  type LayerEntry,
  OciError,
  Platform,
  UnpackLimits,
  writeDockerArchive,
  writeImageLayout,
} from '../oci';
import { autoSize, checkFits, TreeUsage } from './disk-size';
import { convertToQcow2, makeExt4 } from './ext4-disk';
import { diskImageLayers } from './disk-image';
import { addGuestOverlay } from './guest-overlay';
import type { ImageSpec } from './image-spec';
import { materializeSource, SourceKind } from './rootfs-source';
import { measureTree } from './tree-usage';
import { commitVmDisk, createBuildDir, sha256File, VM_DISK_FILE, vmDisksRoot } from './vm-disk-store';

export interface BuildVmImageOptions {
  /** OCI layout dir, docker-save dir/archive, or a root filesystem directory/tarball. */
  readonly source: string;
  /** Image references to register in the local store (none: do not store). */
  readonly tags?: readonly string[];
  /** Platform to pick from a multi-platform image, or of a plain root filesystem (default: host). */
  readonly platform?: Platform;
  readonly refName?: string;
  /** Filesystem size in bytes (default: from the content, see autoSize). */
  readonly sizeBytes?: number;
  readonly spec?: ImageSpec;
  readonly specDir?: string;
  /** Also write the qcow2 here (upstream `-file`). */
  readonly outputFile?: string;
  /** Also write an OCI layout with `/disk.qcow2` here (for pushing with skopeo). */
  readonly ociLayout?: string;
  /** Also write a docker-save archive of that image here (`docker load`). */
  readonly dockerArchive?: string;
  readonly store?: ImageStore;
  /** NEONVM_CACHE override for the guest artifacts. */
  readonly cacheDir?: string;
  readonly limits?: Partial<UnpackLimits>;
  readonly progress?: (line: string) => void;
}

export interface BuildVmImageResult {
  readonly platform: Platform;
  readonly sourceKind: SourceKind;
  readonly digest: string;
  /** The stored disk (when tagged), else the output file. */
  readonly disk?: string;
  readonly refs: readonly string[];
  readonly usage: TreeUsage;
  readonly sourceBytes: number;
  readonly fsBytes: number;
  readonly qcow2Bytes: number;
  readonly seconds: number;
  readonly workloadUser?: string;
}

/** The guest build's arch for an image platform. */
export function guestArchFor(p: Platform): GuestArch {
  if (p.os !== 'linux')
    throw new OciError('unsupported-architecture', `${formatPlatform(p)}: NeonVM guests run Linux`);
  const arch = GUEST_ARCHES.find((a) => a === p.architecture);
  if (arch) return arch;
  throw new OciError(
    'unsupported-architecture',
    `${formatPlatform(p)} is not supported (linux/amd64 and linux/arm64 are)`,
  );
}

/** Output paths must be new or replaceable files/dirs whose parent exists or can be made. */
function checkOutputs(opts: BuildVmImageOptions): void {
  const tags = opts.tags ?? [];
  if (tags.length === 0 && !opts.outputFile && !opts.ociLayout && !opts.dockerArchive) {
    throw new Error(
      'nothing to produce: give at least one --tag, --output, --oci-layout or --docker-archive',
    );
  }
  if (opts.dockerArchive && !opts.ociLayout && tags.length === 0) {
    throw new Error('--docker-archive needs a --tag for the archive RepoTags');
  }
}

async function renameInto(tmp: string, dest: string): Promise<void> {
  await mkdir(dirname(dest), { recursive: true });
  if (existsSync(dest)) await rm(dest, { recursive: true, force: true });
  await rename(tmp, dest);
}

export async function buildVmImage(opts: BuildVmImageOptions): Promise<BuildVmImageResult> {
  checkOutputs(opts);
  const progress = opts.progress ?? ((line: string) => process.stderr.write(`${line}\n`));
  const started = Date.now();
  const step = (n: number, what: string) =>
    progress(`image-build [${n}/6] ${what} (${((Date.now() - started) / 1000).toFixed(1)}s)`);
  const store = opts.store ?? new ImageStore();
  const tags = opts.tags ?? [];
  const spec = opts.spec ?? {};
  const buildDir = await createBuildDir(vmDisksRoot(store));
  const tmpOutputs: string[] = [];
  try {
    step(1, `reading ${opts.source}`);
    const rootfs = join(buildDir, 'rootfs');
    const source = await materializeSource(opts.source, rootfs, hostPlatform(), {
      platform: opts.platform,
      refName: opts.refName,
      limits: opts.limits,
      tmpDir: buildDir,
      progress,
    });
    const sourceUsage = await measureTree(rootfs);
    progress(
      `  ${source.description}: ${formatPlatform(source.platform)}, ${sourceUsage.files} files, ${formatBytes(sourceUsage.bytes)}`,
    );
    const arch = guestArchFor(source.platform);

    step(2, `guest artifacts for ${arch}`);
    const guest = await ensureGuestArtifacts({ arch, cacheDir: opts.cacheDir, progress });

    step(3, 'adding the NeonVM guest (/neonvm, inittab, workload)');
    const overlay = await addGuestOverlay({
      rootfs,
      guestRootfs: guest.rootfsDir,
      run: source.run,
      spec,
      specDir: opts.specDir ?? process.cwd(),
    });
    if (source.run) {
      const argv = [...source.run.entrypoint, ...source.run.cmd];
      progress(
        `  workload: ${argv.length ? JSON.stringify(argv) : '(none)'} as ${overlay.workloadUser ?? 'root'} in ${source.run.workingDir}`,
      );
    }

    const usage = await measureTree(rootfs);
    const fsBytes = opts.sizeBytes ?? autoSize(usage);
    const fit = checkFits(usage, fsBytes);
    if (!fit.fits) {
      throw new Error(
        `the image needs about ${formatBytes(fit.requiredBytes)} but the disk is ${formatBytes(fsBytes)} (${fit.reason}); pass a larger --size`,
      );
    }
    step(4, `making the ${formatBytes(fsBytes)} ext4 filesystem (mkfs.ext4 -d)`);
    const raw = join(buildDir, 'disk.raw');
    await makeExt4(rootfs, raw, fsBytes);
    await rm(rootfs, { recursive: true, force: true });

    step(5, 'converting to qcow2');
    const qcow2 = join(buildDir, VM_DISK_FILE);
    await convertToQcow2(raw, qcow2);
    await rm(raw, { force: true });
    const qcow2Bytes = statSync(qcow2).size;
    const digest = await sha256File(qcow2);

    step(6, 'writing outputs');
    const metadata = {
      source: opts.source,
      sourceKind: source.kind,
      platform: source.platform,
      guestVersion: guest.version,
      kernelRelease: guest.manifest.kernelRelease,
      fsBytes,
      run: source.run,
      workloadUser: overlay.workloadUser,
      createdAt: new Date().toISOString(),
    };
    // The container image of the disk: a busybox userland for the init container, then /disk.qcow2.
    const imageLayers = (): Promise<LayerEntry[][]> =>
      diskImageLayers(qcow2, source.platform.architecture, opts.cacheDir);
    if (opts.ociLayout) {
      const layout = opts.ociLayout;
      await writeImageLayout(join(buildDir, 'oci'), [
        {
          platform: source.platform,
          layers: await imageLayers(),
          history: [`neonvm image build ${basename(opts.source)}`],
          refName: tags[0]?.split(':').pop() ?? 'latest',
          annotations: {
            [ANNOTATIONS.title]: 'NeonVM root disk',
            [ANNOTATIONS.description]: `disk.qcow2 (${digest})`,
          },
        },
      ]);
      if (opts.dockerArchive) {
        const tmp = join(buildDir, 'docker.tar');
        await writeDockerArchive(join(buildDir, 'oci'), tmp, { repoTags: [tags] });
        tmpOutputs.push(tmp);
      }
      await renameInto(join(buildDir, 'oci'), layout);
      progress(`  OCI layout: ${layout}`);
    } else if (opts.dockerArchive) {
      await writeImageLayout(join(buildDir, 'oci'), [
        { platform: source.platform, layers: await imageLayers() },
      ]);
      await writeDockerArchive(join(buildDir, 'oci'), join(buildDir, 'docker.tar'), { repoTags: [tags] });
      tmpOutputs.push(join(buildDir, 'docker.tar'));
    }
    if (opts.dockerArchive) {
      await renameInto(join(buildDir, 'docker.tar'), opts.dockerArchive);
      progress(`  docker archive: ${opts.dockerArchive}`);
    }
    if (opts.outputFile) {
      const tmp = join(dirname(opts.outputFile), `.${basename(opts.outputFile)}.${process.pid}.tmp`);
      await mkdir(dirname(opts.outputFile), { recursive: true });
      tmpOutputs.push(tmp);
      await copyFile(qcow2, tmp);
      await rename(tmp, opts.outputFile);
      progress(`  qcow2: ${opts.outputFile}`);
    }
    let disk = opts.outputFile;
    if (tags.length > 0) {
      const stored = await commitVmDisk(store, qcow2, tags, metadata);
      disk = stored.disk;
      progress(`  stored ${tags.join(', ')} → ${stored.disk}`);
    }
    const seconds = Math.round((Date.now() - started) / 100) / 10;
    progress(
      `image-build done in ${seconds}s: source ${formatBytes(sourceUsage.bytes)} (${sourceUsage.files} files) + guest ${formatBytes(usage.bytes - sourceUsage.bytes)} → ext4 ${formatBytes(fsBytes)} → qcow2 ${formatBytes(qcow2Bytes)} (${digest.slice(0, 19)})`,
    );
    return {
      platform: source.platform,
      sourceKind: source.kind,
      digest,
      disk,
      refs: tags,
      usage,
      sourceBytes: sourceUsage.bytes,
      fsBytes,
      qcow2Bytes,
      seconds,
      workloadUser: overlay.workloadUser,
    };
  } finally {
    await rm(buildDir, { recursive: true, force: true });
    for (const t of tmpOutputs) await rm(t, { force: true });
  }
}
