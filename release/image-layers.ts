/**
 * The layers of an image as entry lists, from staged host directories. Pure apart from listing
 * those directories: the order and metadata normalisation happen in image/oci's layer writer.
 */
import { basename } from 'node:path';
import { layerEntriesFromDir, type LayerEntry } from '../image/oci';
import { ARTIFACT_FILES } from '../guest';
import { generatedEntries, IMAGE_PATHS, type ImageName } from './image-plan';

export interface StagedInputs {
  /** Unpacked Debian packages. */
  readonly userland: string;
  /** The node binary for the image's architecture. */
  readonly nodeBinary: string;
  readonly nodeBinarySize: number;
  /** Host directories that make up /app (compiled lib/, node_modules/, package.json...), by image path. */
  readonly app: readonly AppTree[];
  /** Runner only: the cached guest artifacts directory (`guest-<version>-<arch>`). */
  readonly guestDir?: string;
}

export interface AppTree {
  readonly source: string;
  /** Path under /app. */
  readonly path: string;
  /** Keep only files whose name passes (default: all). */
  readonly filter?: (name: string) => boolean;
  /** Subtrees (relative to source) left out. */
  readonly exclude?: readonly string[];
}

export interface PlannedLayer {
  /** `created_by` in the image history: says what the layer is. */
  readonly name: string;
  readonly entries: readonly LayerEntry[];
}

const rel = (abs: string): string => abs.replace(/^\/+/, '');

/**
 * The built-in guest, where the runner looks for it: the cache dir `ensureGuestArtifacts` resolves
 * under NEONVM_CACHE (complete marker included, the unpacked rootfs left out), and the kernel,
 * initramfs and build manifest (the kernel's HZ, for `lpj=`) again at the default `-kernelpath` as
 * hard links (no second copy in the layer).
 */
async function guestEntries(guestDir: string): Promise<LayerEntry[]> {
  const prefix = `${rel(IMAGE_PATHS.cache)}/${basename(guestDir)}`;
  const files = (await layerEntriesFromDir(guestDir, prefix)).filter(
    (e) => !e.path.startsWith(`${prefix}/${ARTIFACT_FILES.rootfsDir}`),
  );
  const kernelDir = rel(IMAGE_PATHS.kernelDir);
  return [
    ...files,
    { kind: 'hardlink', path: `${kernelDir}/vmlinuz`, target: `${prefix}/${ARTIFACT_FILES.kernel}` },
    {
      kind: 'hardlink',
      path: `${kernelDir}/${ARTIFACT_FILES.initramfs}`,
      target: `${prefix}/${ARTIFACT_FILES.initramfs}`,
    },
    {
      kind: 'hardlink',
      path: `${kernelDir}/${ARTIFACT_FILES.manifest}`,
      target: `${prefix}/${ARTIFACT_FILES.manifest}`,
    },
  ];
}

/** Bottom to top: what changes least goes lowest, so a code change rebuilds only the app layer. */
export async function planLayers(image: ImageName, staged: StagedInputs): Promise<PlannedLayer[]> {
  const layers: PlannedLayer[] = [
    { name: 'debian packages', entries: await layerEntriesFromDir(staged.userland) },
    // Alone in its layer, so the three images share its blob (a node pulls it once).
    {
      name: 'node',
      entries: [
        {
          kind: 'host-file',
          path: rel(IMAGE_PATHS.node),
          mode: 0o755,
          source: staged.nodeBinary,
          size: staged.nodeBinarySize,
        },
      ],
    },
    { name: 'system files', entries: generatedEntries(image) },
  ];
  if (image === 'runner') {
    if (!staged.guestDir) throw new Error('the runner image needs the guest artifacts');
    layers.push({
      name: 'guest kernel, initramfs and root disk',
      entries: await guestEntries(staged.guestDir),
    });
  }
  const app: LayerEntry[] = [];
  for (const tree of staged.app) {
    const entries = await layerEntriesFromDir(
      tree.source,
      `${rel(IMAGE_PATHS.app)}/${tree.path}`.replace(/\/$/, ''),
    );
    const prefix = `${rel(IMAGE_PATHS.app)}/${tree.path}`;
    const excluded = (tree.exclude ?? []).map((x) => `${prefix}/${x}`);
    const keep = tree.filter;
    app.push(
      ...entries.filter(
        (e) =>
          !excluded.some((x) => e.path === x || e.path.startsWith(`${x}/`)) &&
          (!keep || e.kind === 'dir' || keep(basename(e.path))),
      ),
    );
  }
  layers.push({ name: 'neonvm', entries: app });
  return layers;
}

/** Bytes of file content the layers carry (hard links and directories count nothing). Pure. */
export function plannedBytes(layers: readonly PlannedLayer[]): number {
  let n = 0;
  for (const l of layers)
    for (const e of l.entries)
      if (e.kind === 'host-file') n += e.size;
      else if (e.kind === 'file') n += Buffer.byteLength(e.content);
  return n;
}
