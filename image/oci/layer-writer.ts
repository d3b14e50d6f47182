/**
 * Writing one layer blob: a tar with normalised headers (owner 0:0, no user/group names, one fixed
 * mtime), gzip'd by Node's zlib (which writes no file name and a zero timestamp in the gzip header,
 * like `gzip -n`). Same entries → same bytes → same digest.
 */
import { createHash, Hash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Transform, TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import * as tar from 'tar-stream';
import { Descriptor } from './documents';
import { canonicalLayerEntries, LayerEntry } from './layer-entries';
import { MEDIA_TYPES } from './media-types';
import { packEntries } from './tar-pack';

export interface LayerWriteOptions {
  /** Timestamp of every entry (default: the epoch; pass SOURCE_DATE_EPOCH for reproducible builds). */
  readonly mtime?: Date;
  readonly compression?: 'gzip' | 'none';
  /** zlib level (default 6: disk images are large and level 9 gains little). */
  readonly gzipLevel?: number;
}

export interface WrittenLayer {
  readonly descriptor: Descriptor;
  /** Digest of the uncompressed tar (config rootfs.diff_ids). */
  readonly diffId: string;
  readonly uncompressedSize: number;
}

class Measure extends Transform {
  readonly hash: Hash = createHash('sha256');
  bytes = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    cb(null, chunk);
  }
}

/** Writes the layer into `<layoutDir>/blobs/sha256/` and returns its descriptor. */
export async function writeLayer(
  layoutDir: string,
  entries: readonly LayerEntry[],
  opts: LayerWriteOptions = {},
): Promise<WrittenLayer> {
  const mtime = opts.mtime ?? new Date(0);
  const gzip = (opts.compression ?? 'gzip') === 'gzip';
  const blobs = join(layoutDir, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const tmp = join(blobs, `.layer-${process.pid}-${Date.now()}.tmp`);
  const pack = tar.pack();
  const uncompressed = new Measure();
  const stored = new Measure();
  const compress = gzip ? createGzip({ level: opts.gzipLevel ?? 6 }) : new PassThrough();
  const written = pipeline(pack, uncompressed, compress, stored, createWriteStream(tmp));
  try {
    await packEntries(pack, canonicalLayerEntries(entries), mtime);
    await written;
    const hex = stored.hash.digest('hex');
    await rename(tmp, join(blobs, hex));
    return {
      descriptor: {
        mediaType: gzip ? MEDIA_TYPES.ociLayerGzip : MEDIA_TYPES.ociLayer,
        digest: `sha256:${hex}`,
        size: stored.bytes,
      },
      diffId: `sha256:${uncompressed.hash.digest('hex')}`,
      uncompressedSize: uncompressed.bytes,
    };
  } catch (e) {
    pack.destroy();
    await rm(tmp, { force: true });
    throw e;
  }
}
