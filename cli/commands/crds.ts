import type { Command } from 'commander';
import { buildCustomResourceDefinitions, renderCrdYaml } from '../../crds';

export function registerCrds(program: Command): void {
  program
    .command('crds')
    .description('print the CustomResourceDefinitions (kubectl apply -f -)')
    .action(() => {
      process.stdout.write(buildCustomResourceDefinitions().map(renderCrdYaml).join(''));
    });
}
