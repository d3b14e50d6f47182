/**
 * Building one image (operator or runner) for one or more architectures into an OCI layout plus a
 * `docker save` tar, following image-plan. Staging happens in a temp dir that is always removed.
 */
import { chmod, copyFile, link, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureGuestArtifacts, type GuestArch } from '../guest';
import { packagePath } from '../host';
import { writeDockerArchive, writeImageLayout, blobRelPath, type ImageInput } from '../image/oci';
import { controlField, fetchDebs, unpackDebs } from './debian-userland';
import { extractNodeBinary, fetchNpmTarball } from './node-dist';
import {
  containerConfig,
  debianSelection,
  imageTitle,
  nodePackageOf,
  ociLabels,
  platformOf,
  type BuildInfo,
  type ImageName,
  type QemuSource,
} from './image-plan';
import { planLayers, plannedBytes, type AppTree } from './image-layers';
import { tagLayout, type TaggedLayout } from './layout-index';

/**
 * The Node.js the images ship (Node 24 LTS): package.json's `config.node`, the same version CI and
 * `npm start`/`npm test` fetch when the machine's Node is older than `engines.node`.
 */
export const NODE_VERSION: string = (
  JSON.parse(readFileSync(packagePath(__dirname, 'package.json'), 'utf8')) as { config: { node: string } }
).config.node;

export interface ImageBuildOptions {
  readonly image: ImageName;
  readonly archs: readonly GuestArch[];
  readonly info: BuildInfo;
  /** /app contents shared by all architectures (compiled lib/, node_modules, package.json). */
  readonly app: readonly AppTree[];
  readonly cacheDir: string;
  /** The layout is written to `<outDir>/<image>`, the docker tar to `<outDir>/<image>.tar`. */
  readonly outDir: string;
  readonly progress: (line: string) => void;
  /** The runner's QEMU (default `DEFAULT_QEMU_SOURCE`: bookworm-backports'). */
  readonly qemu?: QemuSource;
}

export interface BuiltImage extends TaggedLayout {
  readonly layoutDir: string;
  readonly archive: string;
  /** File bytes that went into the layers (userland, node, app, guest), summed over architectures. */
  readonly inputBytes: number;
  /** Runner: the QEMU emulator package's Debian version per architecture, as the image records it. */
  readonly qemuVersions: Readonly<Record<string, string>>;
}

async function stageArch(
  o: ImageBuildOptions,
  arch: GuestArch,
  stage: string,
): Promise<{ input: ImageInput; bytes: number; qemuVersion?: string }> {
  const debs = await fetchDebs(
    debianSelection(o.image, arch, o.qemu),
    arch,
    join(o.cacheDir, 'debs', arch),
    o.progress,
  );
  const userland = join(stage, `userland-${arch}`);
  o.progress(`${o.image} ${arch}: unpacking ${debs.length} packages`);
  await unpackDebs(debs, userland);
  const emulator = join(
    userland,
    'var/lib/dpkg/status.d',
    arch === 'arm64' ? 'qemu-system-arm' : 'qemu-system-x86',
  );
  const qemuVersion = existsSync(emulator)
    ? controlField(await readFile(emulator, 'utf8'), 'Version')
    : undefined;
  if (qemuVersion) o.progress(`${o.image} ${arch}: QEMU ${qemuVersion}`);
  const tarball = await fetchNpmTarball(
    nodePackageOf(arch, NODE_VERSION),
    join(o.cacheDir, 'npm'),
    o.progress,
  );
  const nodeBinary = join(stage, `node-${arch}`);
  await extractNodeBinary(tarball, nodeBinary);
  const guestDir =
    o.image === 'runner'
      ? (await ensureGuestArtifacts({ arch: arch, cacheDir: o.cacheDir, progress: o.progress })).dir
      : undefined;
  const nodeBinarySize = (await stat(nodeBinary)).size;
  const layers = await planLayers(o.image, { userland, nodeBinary, nodeBinarySize, app: o.app, guestDir });
  const bytes = plannedBytes(layers);
  return {
    input: {
      platform: platformOf(arch),
      layers: layers.map((l) => l.entries),
      history: layers.map((l) => l.name),
      config: containerConfig(o.image, o.info),
      annotations: ociLabels(o.image, o.info),
    },
    bytes,
    ...(qemuVersion ? { qemuVersion } : {}),
  };
}

/**
 * A `docker save` tar of the first architecture only: `docker load` and `kind load image-archive`
 * want one image per tag. Written from a scratch layout of hard links, so no blob is copied.
 */
async function writeArchive(
  o: ImageBuildOptions,
  layoutDir: string,
  built: TaggedLayout,
  stage: string,
): Promise<string> {
  const first = built.manifests[0];
  const scratch = join(stage, 'archive-layout');
  await mkdir(join(scratch, 'blobs', 'sha256'), { recursive: true });
  const manifest = JSON.parse(await readFile(join(layoutDir, blobRelPath(first.digest)), 'utf8')) as {
    config: { digest: string };
    layers: { digest: string }[];
  };
  for (const d of [first.digest, manifest.config.digest, ...manifest.layers.map((l) => l.digest)])
    await link(join(layoutDir, blobRelPath(d)), join(scratch, blobRelPath(d))).catch(() =>
      copyFile(join(layoutDir, blobRelPath(d)), join(scratch, blobRelPath(d))),
    );
  await writeFile(join(scratch, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(join(scratch, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [first] }));
  const archive = join(o.outDir, `${o.image}.tar`);
  await writeDockerArchive(scratch, archive, {
    repoTags: [[`${imageTitle(o.image)}:${o.info.version}`]],
    mtime: o.info.created,
  });
  return archive;
}

export async function buildImage(o: ImageBuildOptions): Promise<BuiltImage> {
  const stage = await mkdtemp(join(tmpdir(), `neonvm-image-${o.image}-`));
  try {
    const inputs: ImageInput[] = [];
    let inputBytes = 0;
    const qemuVersions: Record<string, string> = {};
    for (const arch of o.archs) {
      const { input, bytes, qemuVersion } = await stageArch(o, arch, stage);
      inputs.push(input);
      inputBytes += bytes;
      if (qemuVersion) qemuVersions[arch] = qemuVersion;
    }
    const layoutDir = join(o.outDir, o.image);
    o.progress(`${o.image}: writing layout ${layoutDir}`);
    const written = await writeImageLayout(layoutDir, inputs, { mtime: o.info.created, replace: true });
    // The layout is built in a mkdtemp dir (0700): make it readable for a non-root `skopeo copy`.
    await chmod(layoutDir, 0o755);
    const tagged = await tagLayout(
      layoutDir,
      written.images.map((i) => i.manifest),
      o.info.version,
      ociLabels(o.image, o.info),
    );
    o.progress(`${o.image}: writing docker archive`);
    const archive = await writeArchive(o, layoutDir, tagged, stage);
    return { ...tagged, layoutDir, archive, inputBytes, qemuVersions };
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}
