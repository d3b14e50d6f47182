/**
 * VM root disks in the local image store. Each disk lives in its own content-addressed directory
 * `${store}/vm-disks/sha256-<prefix>/disk.qcow2` (upstream's contract: a rootDisk image is one whose
 * filesystem has /disk.qcow2), registered under one or more image references with
 * `files` = that directory.
 *
 * Builds happen in `.build-<pid>-*` directories next to them and are renamed into place when
 * complete, so the store never holds a partial disk; build dirs of dead processes are removed on
 * the next build. Old disks are not deleted when a reference moves to a new one: a running VM's
 * overlay may still use them as its base.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ImageStore } from '../../cluster/image-store';
import { processExists } from '../../host';

export const VM_DISK_FILE = 'disk.qcow2';
export const VM_IMAGE_METADATA_FILE = 'neonvm-image.json';

export function vmDisksRoot(store: ImageStore): string {
  return join(store.dir, 'vm-disks');
}

/** A fresh build directory on the store's filesystem (renames into place stay atomic). */
export async function createBuildDir(root: string): Promise<string> {
  await mkdir(root, { recursive: true });
  for (const name of await readdir(root)) {
    const pid = /^\.(?:build|commit)-(\d+)-/.exec(name)?.[1];
    if (pid && Number(pid) !== process.pid && !processExists(Number(pid))) {
      await rm(join(root, name), { recursive: true, force: true });
    }
  }
  return mkdtemp(join(root, `.build-${process.pid}-`));
}

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return `sha256:${h.digest('hex')}`;
}

export interface StoredDisk {
  readonly dir: string;
  readonly disk: string;
  readonly digest: string;
}

/**
 * Moves a finished disk into its content-addressed directory (reusing an identical one) and
 * registers every reference to it.
 */
export async function commitVmDisk(
  store: ImageStore,
  disk: string,
  refs: readonly string[],
  metadata: Readonly<Record<string, unknown>>,
): Promise<StoredDisk> {
  const root = vmDisksRoot(store);
  const digest = await sha256File(disk);
  const dir = join(root, `sha256-${digest.slice('sha256:'.length, 'sha256:'.length + 24)}`);
  if (!existsSync(join(dir, VM_DISK_FILE))) {
    await mkdir(root, { recursive: true });
    const staging = await mkdtemp(join(root, `.commit-${process.pid}-`));
    try {
      await rename(disk, join(staging, VM_DISK_FILE));
      await writeFile(
        join(staging, VM_IMAGE_METADATA_FILE),
        JSON.stringify({ digest, ...metadata }, null, 2) + '\n',
      );
      await rm(dir, { recursive: true, force: true }); // an incomplete dir (no disk) from a crash
      await rename(staging, dir);
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }
  for (const ref of refs) store.register(ref, { entrypoint: [], files: dir });
  return { dir, disk: join(dir, VM_DISK_FILE), digest };
}
