/**
 * `spec.guest.rootDisk.image` → the VM disk a local run boots: the store entry `neonvm image build`
 * registered under that reference, whose `files` directory holds `disk.qcow2` (upstream's contract
 * for a rootDisk image; on a cluster the runner pod's init container copies the same file). Used by
 * `neonvm run`, so a VM boots the disk it names or fails saying which image was looked up where.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fieldError, ValidationError } from '../../crds';
import { canonicalImageRef, type ImageStore } from '../../cluster/image-store';
import { VM_DISK_FILE } from './vm-disk-store';

export const ROOT_DISK_IMAGE_PATH = 'spec.guest.rootDisk.image';

/** What the lookup reads of a VirtualMachine (a whole one, or a spec as tests write it). */
export interface NamesRootDisk {
  readonly metadata?: { readonly name?: string };
  readonly spec: { readonly guest: { readonly rootDisk: { readonly image: string } } };
}

/** The disk of the VM's root disk image in `store`; a ValidationError naming the field if there is none. */
export function rootDiskOf(vm: NamesRootDisk, store: ImageStore): string {
  const ref = vm.spec.guest.rootDisk.image;
  const subject = `VirtualMachine ${vm.metadata?.name ?? ''}`.trim();
  let canonical: string;
  try {
    canonical = canonicalImageRef(ref);
  } catch (e) {
    throw new ValidationError(subject, [
      fieldError(ROOT_DISK_IMAGE_PATH, 'image-reference', (e as Error).message, ref),
    ]);
  }
  const manifest = store.resolve(ref);
  if (!manifest) {
    throw new ValidationError(subject, [
      fieldError(
        ROOT_DISK_IMAGE_PATH,
        'image-in-store',
        `no image ${canonical} in the local image store ${store.dir}; build it with "neonvm image build <image or rootfs> -t ${ref}"`,
        ref,
      ),
    ]);
  }
  const disk = manifest.files ? join(manifest.files, VM_DISK_FILE) : undefined;
  if (!disk || !existsSync(disk)) {
    throw new ValidationError(subject, [
      fieldError(
        ROOT_DISK_IMAGE_PATH,
        'vm-disk-image',
        `${canonical} in ${store.dir} is not a VM disk image (no ${VM_DISK_FILE} in its files); make one with "neonvm image build"`,
        ref,
      ),
    ]);
  }
  return disk;
}
