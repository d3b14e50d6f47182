/** dist/install/neonvm.yaml: the install bundle pinned to the built images, as one multi-document YAML. */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { stringify } from 'yaml';
import { installBundleObjects } from '../constructs/install/install-bundle';
import type { NeonVmInstallOptions } from '../constructs/install/install-options';

/**
 * Pure: the objects in apply order (CRDs first), `---`-separated. Objects shared between documents
 * (label maps) are written out in full rather than as YAML anchors and aliases.
 */
export function renderInstallManifest(options: NeonVmInstallOptions): string {
  return installBundleObjects(options)
    .map((o) => stringify(o, { lineWidth: 0, aliasDuplicateObjects: false }))
    .join('---\n');
}

export async function writeInstallManifest(file: string, options: NeonVmInstallOptions): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, renderInstallManifest(options));
}
