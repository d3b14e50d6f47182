import type { Command } from 'commander';
import { renderArgoCdConfigMapSnippet } from '../../constructs';
import { synthExamples } from '../../examples/synth-examples';

export function registerSynth(program: Command): void {
  program
    .command('synth')
    .description('synthesize the cdk8s, ArgoCD and app-repo examples into a directory')
    .argument('[outDir]', 'output directory', 'dist')
    .option('--no-app-repo', 'skip the app-repo example (it runs through tsx)')
    .option('--argocd-cm', 'only print the argocd-cm health-check snippet to stdout')
    .action(async (outDir: string, opts: { appRepo: boolean; argocdCm?: boolean }) => {
      if (opts.argocdCm) {
        process.stdout.write(renderArgoCdConfigMapSnippet());
        return;
      }
      const files = await synthExamples(outDir, { appRepo: opts.appRepo });
      for (const f of files) console.log(`${outDir}/${f}`);
    });
}
