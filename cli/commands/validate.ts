import type { Command } from 'commander';
import { formatFieldErrors, isNeonVmObject, validateObject } from '../../crds';
import { describeObject, expandManifestPaths, readManifestFile, type SourcedObject } from '../manifest-files';

export interface ValidationOutcome {
  readonly checked: SourcedObject[];
  readonly failures: Array<{ source: SourcedObject; message: string }>;
}

/** Validates every NeonVM object in the given files; other kinds are passed through unchecked. */
export function validateFiles(paths: readonly string[]): ValidationOutcome {
  const checked: SourcedObject[] = [];
  const failures: ValidationOutcome['failures'] = [];
  for (const file of expandManifestPaths(paths)) {
    for (const source of readManifestFile(file)) {
      checked.push(source);
      if (!isNeonVmObject(source.object)) continue;
      const errors = validateObject(source.object);
      if (errors.length) failures.push({ source, message: formatFieldErrors(errors) });
    }
  }
  return { checked, failures };
}

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('validate NeonVM objects in YAML/JSON files or directories')
    .argument('<paths...>', 'files or directories')
    .action((paths: string[]) => {
      const { checked, failures } = validateFiles(paths);
      for (const f of failures)
        console.error(`${f.source.file}: ${describeObject(f.source.object)}:\n${f.message}`);
      const neonvm = checked.filter((c) => isNeonVmObject(c.object)).length;
      console.log(
        `${neonvm} NeonVM object(s) checked in ${new Set(checked.map((c) => c.file)).size} file(s), ${failures.length} invalid`,
      );
      if (failures.length) process.exitCode = 1;
    });
}
