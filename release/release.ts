/**
 * `build:images` end to end: compile the project into a staging dir, install production
 * dependencies, build the three images, render the install manifest pinned to their digests.
 */
import { mkdir, mkdtemp, rm, writeFile, readFile, stat } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { runText } from '../host';
import { productionNodeModules } from './app-bundle';
import { readBuildInfo } from './build-info';
import { buildImage } from './image-build';
import type { AppTree } from './image-layers';
import {
  IMAGE_NAMES,
  PRUNED_NODE_MODULES,
  imageTitle,
  type BuildInfo,
  type ImageName,
  type QemuSource,
} from './image-plan';
import type { GuestArch } from '../guest';
import { imageRefsFromDist } from './image-refs';
import { writeInstallManifest } from './install-manifest';

export interface ReleaseOptions {
  readonly repoDir: string;
  /** dist: images go to `<outDir>/images`, the install manifest to `<outDir>/install/neonvm.yaml`. */
  readonly outDir: string;
  readonly archs: readonly GuestArch[];
  /** Registry prefix the install manifest references the images under. */
  readonly registry: string;
  readonly cacheDir: string;
  readonly progress: (line: string) => void;
  /** Version, revision and timestamp (default: read from the checkout, see readBuildInfo). */
  readonly info?: BuildInfo;
  /** Where the runner's QEMU comes from (default `DEFAULT_QEMU_SOURCE`: bookworm-backports'). */
  readonly qemu?: QemuSource;
}

export interface ReleasedImage {
  readonly name: ImageName;
  readonly digest: string;
  /** `<registry>/<title>@<digest>` as the install manifest has it. */
  readonly ref: string;
  readonly layoutBytes: number;
  /** The `docker save` tar (first architecture), tagged `archiveRef`. */
  readonly archive: string;
  readonly archiveRef: string;
  readonly archiveBytes: number;
  readonly inputBytes: number;
  /** Runner: its QEMU's Debian version per architecture (also in the image's `/var/lib/dpkg/status.d/`). */
  readonly qemuVersions: Readonly<Record<string, string>>;
}

export interface ReleaseResult {
  readonly images: readonly ReleasedImage[];
  readonly installManifest: string;
}

const execFileAsync = promisify(execFile);

const GO_SOURCE = /\.go$|^go\.(mod|sum)$/;

/** tsc reports type errors on stdout, which runText drops: keep it for the error message. */
async function compile(repoDir: string, outDir: string): Promise<void> {
  try {
    await execFileAsync(
      'npx',
      ['tsc', '-p', 'tsconfig.build.json', '--pretty', 'false', '--outDir', outDir],
      {
        cwd: repoDir,
        maxBuffer: 16 << 20,
      },
    );
  } catch (e) {
    const out = (e as { stdout?: string }).stdout ?? '';
    throw new Error(`tsc -p tsconfig.build.json failed:\n${out.split('\n').slice(0, 20).join('\n')}`);
  }
}

async function bytesOf(path: string): Promise<number> {
  return Number((await runText(['du', '-sb', path])).split('\t')[0]);
}

/**
 * The /app trees. lib/ is compiled with the build tsconfig into the staging dir rather than the
 * shared `lib/`, so a concurrent `npm run build` in the checkout cannot mix into the image.
 */
async function stageApp(o: ReleaseOptions, stage: string): Promise<AppTree[]> {
  o.progress('compiling (tsc -p tsconfig.build.json)');
  const lib = join(stage, 'lib');
  await compile(o.repoDir, lib);
  const meta = join(stage, 'meta');
  await mkdir(meta);
  await writeFile(join(meta, 'package.json'), await readFile(join(o.repoDir, 'package.json')));
  const modules = await productionNodeModules(o.repoDir, o.cacheDir, o.progress);
  return [
    { source: meta, path: '' },
    { source: lib, path: 'lib' },
    { source: join(modules, 'node_modules'), path: 'node_modules', exclude: PRUNED_NODE_MODULES },
    // The runner hashes the guest agent sources to name its built-in guest (guest/artifacts.ts).
    {
      source: join(o.repoDir, 'guest', 'agent'),
      path: 'guest/agent',
      filter: (n) => GO_SOURCE.test(n),
    },
    // The device plugin loads the kubelet API from its .proto at start (device-plugin/api).
    {
      source: join(o.repoDir, 'device-plugin', 'api', 'v1beta1'),
      path: 'device-plugin/api/v1beta1',
      filter: (n) => n.endsWith('.proto'),
    },
  ];
}

/**
 * Builds `names` (default: every image) into `<outDir>/images` without the install manifest — what a
 * test that needs one image runs. Each image also gets its `docker save` archive.
 */
export async function buildImages(
  o: ReleaseOptions,
  names: readonly ImageName[] = IMAGE_NAMES,
): Promise<ReleasedImage[]> {
  const info = o.info ?? (await readBuildInfo(o.repoDir));
  o.progress(
    `neonvm ${info.version} at ${info.revision.slice(0, 12)}, timestamps ${info.created.toISOString()}`,
  );
  const stage = await mkdtemp(join(tmpdir(), 'neonvm-release-'));
  const imagesDir = join(o.outDir, 'images');
  try {
    const app = await stageApp(o, stage);
    const images: ReleasedImage[] = [];
    const registry = o.registry.replace(/\/+$/, '');
    for (const name of names) {
      const started = Date.now();
      const built = await buildImage({
        image: name,
        archs: o.archs,
        info,
        app,
        cacheDir: o.cacheDir,
        outDir: imagesDir,
        progress: o.progress,
        ...(o.qemu ? { qemu: o.qemu } : {}),
      });
      o.progress(`${name}: ${built.index.digest} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
      images.push({
        name,
        digest: built.index.digest,
        ref: `${registry}/${imageTitle(name)}@${built.index.digest}`,
        layoutBytes: await bytesOf(built.layoutDir),
        archive: built.archive,
        archiveRef: `${imageTitle(name)}:${info.version}`,
        archiveBytes: (await stat(built.archive)).size,
        inputBytes: built.inputBytes,
        qemuVersions: built.qemuVersions,
      });
    }
    return images;
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}

export async function buildRelease(o: ReleaseOptions): Promise<ReleaseResult> {
  const images = await buildImages(o);
  const installManifest = join(o.outDir, 'install', 'neonvm.yaml');
  await writeInstallManifest(
    installManifest,
    await imageRefsFromDist(join(o.outDir, 'images'), o.registry.replace(/\/+$/, '')),
  );
  return { images, installManifest };
}
