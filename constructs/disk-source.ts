/**
 * Where an extra guest disk comes from: a ConfigMap or Secret (files on an ISO disk, optionally kept
 * in sync), a fresh ext4 disk, or a tmpfs. Value objects built by static factories, as cdk8s-plus
 * does with `Volume.fromConfigMap`; `toDisk` produces the `crds` Disk (fields only, no defaults).
 */
import type { IConfigMap, ISecret } from 'cdk8s-plus-28';
import type { Disk } from '../crds';
import { sizeQuantity, type SizeLike } from './amounts';

export interface ObjectDiskOptions {
  /**
   * Sync live changes into the running guest instead of a one-shot copy at boot.
   * @default false
   */
  readonly watch?: boolean;
  /**
   * Only these keys, each written to the given relative path (key → path).
   * @default - every key, named after the key
   */
  readonly items?: Readonly<Record<string, string>>;
  /**
   * File mode bits of the files.
   * @default 0644 (Kubernetes default)
   */
  readonly defaultMode?: number;
}

export interface EmptyDiskOptions {
  /**
   * Pass discards (TRIM) through to the host file.
   * @default false
   */
  readonly discard?: boolean;
  /**
   * Enable ext4 project quotas.
   * @default false
   */
  readonly enableQuotas?: boolean;
}

/** The source part of a `spec.disks[]` entry. */
export type DiskSourceFields = Omit<Disk, 'name' | 'mountPath' | 'readOnly'>;

function keyItems(items: Readonly<Record<string, string>> | undefined) {
  return items === undefined ? undefined : Object.entries(items).map(([key, path]) => ({ key, path }));
}

/**
 * Where a VM disk's contents come from: a ConfigMap or Secret (an ISO, or files kept in sync with
 * `watch`), an empty ext4 disk, or a tmpfs. Used with `VirtualMachine.addDisk()`.
 */
export class DiskSource {
  /**
   * Files of a ConfigMap, as an ISO disk (or synced when `watch`).
   *
   * The disk records the object's name (`spec.disks[].configMap.name`), and `spec.disks` is immutable:
   * renaming the construct that names the object (a ConfigMap without `metadata.name` is named after
   * its construct path) changes the VM's disks, which the admission webhook rejects. Give the object
   * an explicit `metadata.name`, or recreate the VM.
   */
  public static fromConfigMap(configMap: IConfigMap, options: ObjectDiskOptions = {}): DiskSource {
    return new DiskSource({
      watch: options.watch,
      configMap: { name: configMap.name, items: keyItems(options.items), defaultMode: options.defaultMode },
    });
  }

  /**
   * Files of a Secret, as an ISO disk (or synced when `watch`).
   *
   * The disk records the object's name (`spec.disks[].secret.secretName`), and `spec.disks` is immutable:
   * renaming the construct that names the object (a Secret without `metadata.name` is named after
   * its construct path) changes the VM's disks, which the admission webhook rejects. Give the object
   * an explicit `metadata.name`, or recreate the VM.
   */
  public static fromSecret(secret: ISecret, options: ObjectDiskOptions = {}): DiskSource {
    return new DiskSource({
      watch: options.watch,
      secret: { secretName: secret.name, items: keyItems(options.items), defaultMode: options.defaultMode },
    });
  }

  /** A fresh ext4 disk of this size, created when the runner pod starts. */
  public static emptyDisk(size: SizeLike, options: EmptyDiskOptions = {}): DiskSource {
    return new DiskSource({
      emptyDisk: { size: sizeQuantity(size), discard: options.discard, enableQuotas: options.enableQuotas },
    });
  }

  /** A tmpfs of this size mounted in the guest. */
  public static tmpfs(size: SizeLike): DiskSource {
    return new DiskSource({ tmpfs: { size: sizeQuantity(size) } });
  }

  private constructor(private readonly fields: DiskSourceFields) {}

  /** @internal the `spec.disks[]` entry for this source. */
  public _toDisk(name: string, mountPath: string, readOnly: boolean | undefined): Disk {
    return { name, mountPath, readOnly, ...this.fields };
  }
}
