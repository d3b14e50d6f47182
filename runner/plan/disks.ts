/**
 * planDisks: which images the runner must build and which drives QEMU gets, in upstream's order
 * (§4.3/§4.4). Pure: facts that need I/O (the root image's current virtual size) come in as inputs,
 * and executing the plan is runner/pod-resources/disk-builder.ts's job.
 */
import { join } from 'node:path';
import { quantityBytes, type VirtualMachineSpec } from '../../crds';
import { RUNTIME_ISO_LABEL, SSH_ISO_LABEL } from '../../guest';
import { agentAccessFiles, guestDir } from './agent-access';
import { inPod, type PodPaths } from './pod-paths';
import {
  effectiveDisks,
  ext4Label,
  runtimeFiles,
  SWAP_LABEL,
  type RuntimeFile,
  type WatchedDisk,
} from './runtime-files';
import type { VmShape } from './vm-shape';

/** `-rootdisk-base` value that boots the runner's built-in guest disk (tests, a runner image alone). */
export const BUILTIN_ROOT_DISK = 'builtin';

/** QEMU drive id (= block device name for QMP `block_resize`) of the swap disk. */
export const SWAP_DRIVE_ID = 'swapdisk';

/** How the root disk is obtained: used where it lies (a per-pod copy), or as a qcow2 overlay on a shared base. */
export type RootDiskSource = { kind: 'in-place' } | { kind: 'overlay'; base: string };

export interface RootDiskInput {
  /** Path of the image's disk: the per-pod copy (in-place) or the shared base (overlay). */
  readonly path: string;
  readonly virtualSizeBytes: bigint;
  readonly mode: 'in-place' | 'overlay';
}

export interface RootDiskPlan {
  readonly path: string;
  readonly source: RootDiskSource;
  /** Grow the virtual size to this (only ever larger than the current size). */
  readonly growToBytes?: bigint;
}

export type ImagePlan =
  | { kind: 'iso'; path: string; volumeId: string; files: RuntimeFile[] }
  | { kind: 'dir-iso'; path: string; volumeId: string; sourceDir: string }
  | {
      kind: 'ext4';
      path: string;
      label: string;
      sizeBytes: bigint;
      /** ext4 project quotas (`emptyDisk.enableQuotas`): made at mkfs time, enforced by mounting with prjquota. */
      projectQuota: boolean;
    }
  | { kind: 'swap'; path: string; label: string; sizeBytes: bigint };

/**
 * Image format of a drive, always given to QEMU: a probed format would let a raw disk the guest
 * wrote a qcow2 header into be reopened as qcow2 (naming a node file as its backing file).
 */
export type DriveFormat = 'raw' | 'qcow2';

export interface DrivePlan {
  readonly id: string;
  readonly path: string;
  readonly media: 'disk' | 'cdrom';
  readonly format: DriveFormat;
  /** `settings` = the `-qemu-disk-cache-settings` flag value; ISOs always use `cache=none`. */
  readonly cache: 'settings' | 'none';
  readonly discard: boolean;
  /** `readonly=on`: the guest cannot write the device (`disks[].readOnly`, ISOs). */
  readonly readOnly: boolean;
}

export interface DiskPlan {
  readonly root: RootDiskPlan;
  /** Images to create, in any order (independent of each other). */
  readonly images: ImagePlan[];
  /** QEMU drives in guest order (/dev/vda, /dev/vdb, ...). */
  readonly drives: DrivePlan[];
  /** configMap/secret disks with `watch: true`: host dir synced into the guest by the runner. */
  readonly watched: Array<WatchedDisk & { hostDir: string }>;
}

/** agentToken: the guest agent's bearer token (agent-access.ts), written to the runtime ISO. */
export function planDisks(
  spec: VirtualMachineSpec,
  shape: VmShape,
  paths: PodPaths,
  rootInput: RootDiskInput,
  agentToken: string,
): DiskPlan {
  const images: ImagePlan[] = [];
  const drives: DrivePlan[] = [];
  const watched: DiskPlan['watched'] = [];

  const requested =
    spec.guest.rootDisk.size !== undefined ? quantityBytes(spec.guest.rootDisk.size) : undefined;
  const growToBytes =
    requested !== undefined && requested > rootInput.virtualSizeBytes ? requested : undefined;
  const root: RootDiskPlan =
    rootInput.mode === 'overlay'
      ? {
          path: join(paths.images, 'rootdisk.qcow2'),
          source: { kind: 'overlay', base: rootInput.path },
          growToBytes,
        }
      : { path: rootInput.path, source: { kind: 'in-place' }, growToBytes };
  drives.push({
    id: 'rootdisk',
    path: root.path,
    media: 'disk',
    format: 'qcow2', // checked standalone qcow2 (in place) or our qcow2 overlay
    cache: 'settings',
    discard: false,
    readOnly: false,
  });

  const runtimeIso = join(paths.images, 'runtime.iso');
  images.push({
    kind: 'iso',
    path: runtimeIso,
    volumeId: RUNTIME_ISO_LABEL,
    files: [...runtimeFiles(spec, shape), ...agentAccessFiles(spec, agentToken)],
  });
  drives.push({
    id: 'runtime',
    path: runtimeIso,
    media: 'cdrom',
    format: 'raw',
    cache: 'none',
    discard: false,
    readOnly: true,
  });

  if (spec.enableSSH !== false) {
    const path = join(paths.images, 'ssh-authorized-keys.iso');
    images.push({ kind: 'dir-iso', path, volumeId: SSH_ISO_LABEL, sourceDir: paths.sshPublic });
    drives.push({
      id: 'ssh-authorized-keys',
      path,
      media: 'cdrom',
      format: 'raw',
      cache: 'none',
      discard: false,
      readOnly: true,
    });
  }

  if (spec.guest.settings?.swap !== undefined) {
    const path = join(paths.images, 'swapdisk.qcow2');
    images.push({
      kind: 'swap',
      path,
      label: SWAP_LABEL,
      sizeBytes: quantityBytes(spec.guest.settings.swap),
    });
    drives.push({
      id: SWAP_DRIVE_ID,
      path,
      media: 'disk',
      format: 'qcow2',
      cache: 'settings',
      discard: true,
      readOnly: false,
    });
  }

  for (const disk of effectiveDisks(spec)) {
    if (disk.emptyDisk) {
      const path = join(paths.images, `${disk.name}.qcow2`);
      images.push({
        kind: 'ext4',
        path,
        label: ext4Label(disk.name),
        sizeBytes: quantityBytes(disk.emptyDisk.size),
        projectQuota: disk.emptyDisk.enableQuotas === true,
      });
      drives.push({
        id: disk.name,
        path,
        media: 'disk',
        format: 'qcow2',
        cache: 'settings',
        discard: disk.emptyDisk.discard === true,
        // FIX: upstream applies readOnly to the pod's volume mount only; the guest could still write.
        readOnly: disk.readOnly === true,
      });
    } else if (disk.configMap || disk.secret) {
      const hostDir = inPod(paths.root, join('/vm/mounts', disk.mountPath));
      // The agent's URL path and root (files-roots.json) in one normal form.
      if (disk.watch) watched.push({ name: disk.name, mountPath: guestDir(disk.mountPath), hostDir });
      // The TLS pseudo-disk is only ever synced; upstream builds ISOs for real disks even when watched.
      if (disk.name === 'tls-keys' && spec.tls) continue;
      const path = join(paths.images, `${disk.name}.iso`);
      images.push({ kind: 'dir-iso', path, volumeId: disk.name, sourceDir: hostDir });
      drives.push({
        id: disk.name,
        path,
        media: 'cdrom',
        format: 'raw',
        cache: 'none',
        discard: false,
        readOnly: true,
      });
    }
    // tmpfs: nothing on the host
  }
  return { root, images, drives, watched };
}
