/**
 * Executes a DiskPlan with the host tools the runner image ships: qemu-img, mkfs.ext4, mkswap,
 * genisoimage. Images are independent, so they are built concurrently.
 */
import { copyFile, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { run, runText } from '../../host';
import type { DiskPlan, ImagePlan, RootDiskPlan } from '../plan/disks';
import { checkRootDiskInfo, RootDiskError, type QemuImgInfo } from '../plan/root-disk-check';

const QCOW2_OPTS = 'cluster_size=2M,lazy_refcounts=on';

/** `qemu-img info`'s virtual size of an image. */
export async function imageVirtualSize(path: string): Promise<bigint> {
  const info = JSON.parse(await runText(['qemu-img', 'info', '--output=json', '-U', path])) as {
    'virtual-size': number;
  };
  return BigInt(info['virtual-size']);
}

/**
 * The virtual size of the root disk copied from `spec.guest.rootDisk.image`, after checking it is a
 * standalone qcow2 (`checkRootDiskInfo`); the format is forced, so nothing is probed.
 */
export async function checkedRootDiskSize(path: string, image: string): Promise<bigint> {
  let info: QemuImgInfo;
  try {
    info = JSON.parse(
      await runText(['qemu-img', 'info', '--output=json', '-f', 'qcow2', '-U', path]),
    ) as QemuImgInfo;
  } catch (e) {
    const reason =
      (e as Error).message.split('\n').find((l) => l.includes('qemu-img:')) ?? (e as Error).message;
    throw new RootDiskError(image, `cannot be read as qcow2: ${reason.trim()}`);
  }
  return checkRootDiskInfo(info, image);
}

async function buildRoot(root: RootDiskPlan): Promise<void> {
  if (root.source.kind === 'overlay') {
    await rm(root.path, { force: true });
    const argv = [
      'qemu-img',
      'create',
      '-q',
      '-f',
      'qcow2',
      '-F',
      'qcow2',
      '-b',
      root.source.base,
      '-o',
      'lazy_refcounts=on',
      root.path,
    ];
    if (root.growToBytes !== undefined) argv.push(String(root.growToBytes));
    await run(argv);
  } else if (root.growToBytes !== undefined) {
    await run(['qemu-img', 'resize', '-q', root.path, String(root.growToBytes)]);
  }
}

/** Stages files for genisoimage in a fresh directory (a directory source is flattened, links followed). */
async function makeIso(path: string, volumeId: string, stage: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'neonvm-iso-'));
  try {
    await stage(dir);
    await rm(path, { force: true });
    await run([
      'genisoimage',
      '-quiet',
      '-input-charset',
      'utf-8',
      '-V',
      volumeId,
      '-R',
      '-J',
      '-o',
      path,
      dir,
    ]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function copyTopLevelFiles(from: string, to: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(from);
  } catch {
    return; // volume not mounted: an empty ISO keeps the drive list stable
  }
  for (const name of names) {
    if (name.startsWith('..')) continue; // atomic-writer internals (..data, ..2024_...)
    const p = join(from, name);
    const st = await stat(p).catch(() => undefined);
    if (st?.isFile()) await copyFile(p, join(to, name));
  }
}

async function rawToQcow2(raw: string, path: string): Promise<void> {
  await rm(path, { force: true });
  await run(['qemu-img', 'convert', '-q', '-O', 'qcow2', '-o', QCOW2_OPTS, raw, path]);
  await rm(raw, { force: true });
}

async function buildImage(img: ImagePlan): Promise<void> {
  await mkdir(dirname(img.path), { recursive: true });
  switch (img.kind) {
    case 'iso':
      return makeIso(img.path, img.volumeId, async (dir) => {
        for (const f of img.files) await writeFile(join(dir, f.name), f.content);
      });
    case 'dir-iso':
      return makeIso(img.path, img.volumeId, (dir) => copyTopLevelFiles(img.sourceDir, dir));
    case 'ext4': {
      const raw = `${img.path}.raw`;
      await run(['truncate', '-s', String(img.sizeBytes), raw]);
      // Project quotas need 256-byte inodes (i_projid) and the quota + project features.
      const quota = img.projectQuota ? ['-I', '256', '-O', 'quota,project', '-E', 'quotatype=prjquota'] : [];
      await run(['mkfs.ext4', '-q', '-F', '-L', img.label, '-b', '4096', ...quota, raw]);
      return rawToQcow2(raw, img.path);
    }
    case 'swap': {
      const raw = `${img.path}.raw`;
      await run(['truncate', '-s', String(img.sizeBytes), raw]);
      await run(['mkswap', '-L', img.label, raw]);
      return rawToQcow2(raw, img.path);
    }
  }
}

export async function buildDisks(plan: DiskPlan): Promise<void> {
  await mkdir(dirname(plan.root.path), { recursive: true });
  await Promise.all([buildRoot(plan.root), ...plan.images.map(buildImage)]);
}
