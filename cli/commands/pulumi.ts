import type { Command } from 'commander';
import { runInlineProgram, type PulumiAction } from '../../provider/automation';
import { neonvmExamplesProgram } from '../../examples/pulumi/program';

interface PulumiCommandOptions {
  stack: string;
  state?: string;
  kubeconfig?: string;
  install?: boolean;
  migration?: boolean;
  wait: boolean;
  namespace: string;
}

export function registerPulumi(program: Command): void {
  program
    .command('pulumi')
    .description('run the example Pulumi program (Automation API, inline program, local file backend)')
    .argument('<action>', 'up | preview | destroy')
    .option('--stack <name>', 'stack name', 'dev')
    .option('--state <dir>', 'file-backend directory (default: in the Pulumi cache)')
    .option('--kubeconfig <path>', 'kubeconfig for the Kubernetes provider (default: KUBECONFIG)')
    .option('--install', 'also install the operator (NeonVmInstall)')
    .option('--migration', 'also declare the example migration')
    .option('--no-wait', 'do not wait for VMs to be Running')
    .option('--namespace <ns>', 'namespace of the VMs', 'default')
    .action(async (action: string, opts: PulumiCommandOptions) => {
      if (!['up', 'preview', 'destroy'].includes(action))
        throw new Error(`unknown action '${action}' (up, preview, destroy)`);
      const result = await runInlineProgram(action as PulumiAction, {
        program: neonvmExamplesProgram({
          install: opts.install,
          migration: opts.migration,
          waitForRunning: opts.wait,
          namespace: opts.namespace,
        }),
        stackName: opts.stack,
        stateDir: opts.state,
        kubeconfig: opts.kubeconfig,
        onOutput: (text) => process.stdout.write(text),
      });
      console.log(
        `${action}: ${JSON.stringify(result.changes)} in ${(result.durationMs / 1000).toFixed(1)}s`,
      );
    });
}
