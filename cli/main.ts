#!/usr/bin/env node
/**
 * The `neonvm` command. Sub-commands live in ./commands, one file each; this file only wires them.
 */
import { Command } from 'commander';
import { registerStart } from './commands/start';
import { registerValidate } from './commands/validate';
import { registerDiff } from './commands/diff';
import { registerCrds } from './commands/crds';
import { registerRun } from './commands/run';
import { registerConsole } from './commands/console';
import { registerSsh } from './commands/ssh';
import { registerSynth } from './commands/synth';
import { registerPulumi } from './commands/pulumi';
import { registerImage } from './commands/image';

export function buildProgram(): Command {
  const program = new Command('neonvm')
    .description('NeonVM as infrastructure-as-code: QEMU virtual machines on Kubernetes')
    .showHelpAfterError();
  registerStart(program);
  registerValidate(program);
  registerDiff(program);
  registerCrds(program);
  registerRun(program);
  registerConsole(program);
  registerSsh(program);
  registerSynth(program);
  registerPulumi(program);
  registerImage(program);
  return program;
}

if (require.main === module) {
  buildProgram()
    .parseAsync(process.argv)
    .catch((err: unknown) => {
      console.error(err instanceof Error ? err.message : String(err));
      process.exitCode = 1;
    });
}
