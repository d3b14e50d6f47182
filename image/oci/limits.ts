/**
 * Size limits for reading untrusted images: a layer that decompresses to far more than the disk it
 * is meant for, or a tar with millions of entries, fails early with a clear error instead of
 * filling the host's disk.
 */
import { OciError } from './errors';

export interface UnpackLimits {
  /** Total bytes of file content written across all layers. */
  readonly maxUnpackedBytes: number;
  /** Total tar entries across all layers. */
  readonly maxEntries: number;
  /** Largest JSON document (index, manifest, config) read into memory. */
  readonly maxDocumentBytes: number;
}

export const DEFAULT_LIMITS: UnpackLimits = {
  maxUnpackedBytes: 64 * 1024 ** 3,
  maxEntries: 2_000_000,
  maxDocumentBytes: 8 * 1024 ** 2,
};

/** A running total checked against the limits; shared by all layers of one unpack. */
export class UnpackBudget {
  private bytes = 0;
  private entries = 0;

  constructor(readonly limits: UnpackLimits = DEFAULT_LIMITS) {}

  get unpackedBytes(): number {
    return this.bytes;
  }

  get entryCount(): number {
    return this.entries;
  }

  addEntry(name: string): void {
    if (++this.entries > this.limits.maxEntries) {
      throw new OciError('size-limit', `more than ${this.limits.maxEntries} entries (at ${name})`);
    }
  }

  addBytes(n: number, name: string): void {
    this.bytes += n;
    if (this.bytes > this.limits.maxUnpackedBytes) {
      throw new OciError(
        'size-limit',
        `unpacked content exceeds ${formatBytes(this.limits.maxUnpackedBytes)} (at ${name})`,
      );
    }
  }
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}
