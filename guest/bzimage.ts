/**
 * Locating the compressed kernel inside an x86 bzImage. The boot protocol's setup header says where
 * the payload is; its magic bytes say how it is compressed (Debian switched compressions between
 * kernel builds, so this must be detected, not assumed).
 */
export type KernelCompression = 'lz4' | 'xz' | 'gzip' | 'zstd' | 'bzip2' | 'lzma' | 'lzo' | 'none';

export interface BzImagePayload {
  /** Byte offset of the payload in the bzImage file. */
  readonly offset: number;
  readonly length: number;
  readonly compression: KernelCompression;
  /**
   * Size of the decompressed kernel when the build appended it (kbuild's size_append: every
   * compression except gzip, which records it itself); `length` then excludes that 4-byte trailer,
   * which decompressors such as lz4 would otherwise reject as a truncated frame.
   */
  readonly decompressedSize?: number;
}

const MAGICS: ReadonlyArray<readonly [KernelCompression, readonly number[]]> = [
  ['lz4', [0x02, 0x21, 0x4c, 0x18]], // LZ4 legacy frame (what the kernel's lz4 wrapper writes)
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['gzip', [0x1f, 0x8b]],
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
  ['bzip2', [0x42, 0x5a, 0x68]],
  ['lzma', [0x5d, 0x00, 0x00]],
  ['lzo', [0x89, 0x4c, 0x5a, 0x4f]],
  ['none', [0x7f, 0x45, 0x4c, 0x46]], // ELF: an uncompressed payload
];

export function detectCompression(head: Uint8Array): KernelCompression | undefined {
  for (const [name, magic] of MAGICS) {
    if (magic.every((b, i) => head[i] === b)) return name;
  }
  return undefined;
}

/** Parses the setup header (boot protocol ≥ 2.08) of a bzImage held in memory. */
export function parseBzImage(image: Buffer): BzImagePayload {
  if (image.length < 0x250 || image.readUInt32LE(0x202) !== 0x53726448 /* "HdrS" */) {
    throw new Error('not an x86 bzImage (no HdrS setup header)');
  }
  if (image.readUInt16LE(0x206) < 0x0208) {
    throw new Error('bzImage boot protocol older than 2.08 has no payload fields');
  }
  // setup_sects == 0 means 4 for historical reasons.
  const setupSects = image[0x1f1] || 4;
  const protectedModeStart = (setupSects + 1) * 512;
  const offset = protectedModeStart + image.readUInt32LE(0x248);
  const length = image.readUInt32LE(0x24c);
  if (offset + length > image.length) throw new Error('bzImage payload runs past the end of the file');
  const compression = detectCompression(image.subarray(offset, offset + 8));
  if (!compression) {
    const magic = image.subarray(offset, offset + 4).toString('hex');
    throw new Error(`unknown bzImage payload compression (magic ${magic})`);
  }
  if (compression === 'gzip' || compression === 'none') return { offset, length, compression };
  const decompressedSize = image.readUInt32LE(offset + length - 4);
  return { offset, length: length - 4, compression, decompressedSize };
}

/** Host command (argv) that decompresses the payload from stdin to stdout. */
export function decompressCommand(c: KernelCompression): readonly string[] {
  switch (c) {
    case 'lz4':
      return ['lz4', '-dc'];
    case 'xz':
    case 'lzma':
      return ['xz', '-dc'];
    case 'gzip':
      return ['gzip', '-dc'];
    case 'zstd':
      return ['zstd', '-dc'];
    case 'bzip2':
      return ['bzip2', '-dc'];
    case 'lzo':
      return ['lzop', '-dc'];
    case 'none':
      return ['cat'];
  }
}
