import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { checkFile, checkRepository, dependencyDiagram } from './import-rules';

const repo = resolve(__dirname, '..');

describe('import rules', () => {
  it('hold for every file of the repository', () => {
    expect(checkRepository(repo).map((v) => `${v.file}: '${v.specifier}': ${v.rule}`)).toEqual([]);
  });

  it('catch an import against the layering', () => {
    const rules = (file: string, source: string) => checkFile(repo, file, source).map((v) => v.rule);
    expect(rules('host/x.ts', "import { API_VERSION } from '../crds';")).toEqual([
      'host/ may import only nothing of the project, not crds/',
    ]);
    expect(rules('operator/x.ts', "import { planDisks } from '../runner/plan/disks';")).toEqual([
      'operator/ may import only runner/api, kube, crds, host, not runner/',
    ]);
    expect(rules('operator/x.ts', "import { runnerArgs } from '../runner/api';")).toEqual([]);
    expect(rules('constructs/x.ts', "const c = await import('../cluster');")).toEqual([
      'constructs/ may import only crds, not cluster/',
    ]);
    expect(rules('image/x.ts', "import { run } from '../host/process/run';")).toEqual([
      "host/ is used through its index (import 'host', not 'host/process/run.ts')",
    ]);
    expect(rules('runner/x.int.test.ts', "import { startNeonVmStack } from '../local-stack';")).toEqual([
      'a test of runner/ may not import local-stack/ (a suite that needs it is an end-to-end suite: test/)',
    ]);
    expect(rules('image/x.int.test.ts', "import { bootGuestVm } from '../runner/testing/guest-vm';")).toEqual(
      [],
    );
  });

  it('are the diagram README.md and docs/CONTRIBUTING.md show', () => {
    for (const doc of ['docs/CONTRIBUTING.md', 'README.md'])
      expect(readFileSync(join(repo, doc), 'utf8')).toContain(dependencyDiagram());
  });
});
