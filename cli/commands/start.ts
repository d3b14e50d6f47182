import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Command } from 'commander';
import {
  NEONVM_KINDS,
  buildCustomResourceDefinition,
  crdFileName,
  defaultVirtualMachine,
  defaultVirtualMachineMigration,
  isNeonVmObject,
  renderCrdYaml,
  serializeManifests,
  type VirtualMachine,
  type VirtualMachineMigration,
} from '../../crds';
import { describeObject, expandManifestPaths } from '../manifest-files';
import { validateFiles } from './validate';

export interface StartOptions {
  readonly examples: string;
  readonly out: string;
}

/** Applies defaults to NeonVM objects so dist/ shows exactly what the API server will store. */
function rendered(o: Record<string, unknown>): unknown {
  if (!isNeonVmObject(o)) return o;
  if (o.kind === 'VirtualMachine') return defaultVirtualMachine(o as unknown as VirtualMachine);
  if (o.kind === 'VirtualMachineMigration')
    return defaultVirtualMachineMigration(o as unknown as VirtualMachineMigration);
  return o;
}

/**
 * The main job. Today: validate every example and write the CRDs and the defaulted examples to dist/.
 * Later stages (local cluster, operator, VM flows) plug in here.
 */
export function runStart(opts: StartOptions): number {
  const out = resolve(opts.out);
  console.log(`==> validating ${opts.examples}`);
  const { checked, failures } = validateFiles([opts.examples]);
  for (const c of checked) {
    const bad = failures.find((f) => f.source === c);
    console.log(
      `  ${bad ? 'FAIL' : 'ok  '} ${c.file}: ${describeObject(c.object)}${isNeonVmObject(c.object) ? '' : ' (not a NeonVM kind: passed through)'}`,
    );
    if (bad) console.log(bad.message.replace(/^/gm, '       '));
  }
  if (failures.length) {
    console.error(`${failures.length} invalid object(s); nothing written`);
    return 1;
  }
  rmSync(join(out, 'crds'), { recursive: true, force: true });
  rmSync(join(out, 'examples'), { recursive: true, force: true });
  mkdirSync(join(out, 'crds'), { recursive: true });
  mkdirSync(join(out, 'examples'), { recursive: true });
  console.log(`==> writing CRDs to ${join(out, 'crds')}`);
  for (const info of NEONVM_KINDS) {
    const file = join(out, 'crds', crdFileName(info));
    writeFileSync(file, renderCrdYaml(buildCustomResourceDefinition(info)));
    console.log(`  ${file}`);
  }
  console.log(`==> writing defaulted examples to ${join(out, 'examples')}`);
  for (const file of expandManifestPaths([opts.examples])) {
    const objects = checked.filter((c) => c.file === file).map((c) => rendered(c.object));
    const target = join(out, 'examples', basename(file));
    writeFileSync(target, serializeManifests(objects));
    console.log(`  ${target}`);
  }
  console.log(`done: ${checked.length} object(s) valid`);
  return 0;
}

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('the main job: validate the examples and render CRDs and examples into dist/')
    .option('--examples <dir>', 'directory of example manifests', 'examples')
    .option('--out <dir>', 'output directory', 'dist')
    .action((opts: StartOptions) => {
      process.exitCode = runStart(opts);
    });
}
