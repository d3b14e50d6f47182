/**
 * Writes crds/generated/*.yaml from the schemas in crds/. Run `npm run generate` after changing a
 * schema; `crds/crd-manifest.test.ts` fails while the committed files are stale.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NEONVM_KINDS, buildCustomResourceDefinition, crdFileName, renderCrdYaml } from '../crds';

const outDir = join(__dirname, '..', 'crds', 'generated');
mkdirSync(outDir, { recursive: true });
for (const info of NEONVM_KINDS) {
  const file = join(outDir, crdFileName(info));
  writeFileSync(file, renderCrdYaml(buildCustomResourceDefinition(info)));
  console.log(`wrote ${file}`);
}
