import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheRoot } from '../../host';
import { canonicalImageRef, imageFileName } from './image-ref';
import { ImageManifest, isImageManifest } from './image-manifest';

export function defaultImageStoreDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheRoot(env), 'images');
}

/**
 * The local image store: one JSON manifest per canonical image reference in a directory
 * (default `${NEONVM_CACHE}/images/`). The node agent resolves a container's image here instead of
 * pulling; a missing entry is reported as ErrImagePull / ImagePullBackOff like a failed pull.
 */
export class ImageStore {
  constructor(readonly dir: string = defaultImageStoreDir()) {}

  /** Adds or replaces an image. Atomic (temp file + rename), so a concurrent reader sees old or new. */
  register(ref: string, manifest: ImageManifest): void {
    if (!isImageManifest(manifest)) throw new Error(`invalid image manifest for ${ref}`);
    mkdirSync(this.dir, { recursive: true });
    const file = join(this.dir, imageFileName(ref));
    const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ ref: canonicalImageRef(ref), ...manifest }, null, 2)}\n`);
    renameSync(tmp, file);
  }

  /** The manifest of `ref`, or undefined if the store has no such image (or its entry is corrupt). */
  resolve(ref: string): ImageManifest | undefined {
    let text: string;
    try {
      text = readFileSync(join(this.dir, imageFileName(ref)), 'utf8');
    } catch {
      return undefined;
    }
    try {
      const parsed: unknown = JSON.parse(text);
      if (!isImageManifest(parsed)) return undefined;
      const { entrypoint, cmd, env, workingDir, files } = parsed;
      return { entrypoint, cmd, env, workingDir, files };
    } catch {
      return undefined;
    }
  }
}

/** Registers `ref` in the default store (or `dir`). */
export function registerImage(ref: string, manifest: ImageManifest, dir?: string): void {
  new ImageStore(dir).register(ref, manifest);
}
