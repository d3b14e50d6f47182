#!/usr/bin/env node
/**
 * The repository's `neonvm` command (bin/neonvm.js runs it): every sub-command, including those that
 * need the repository (the local cluster, the guest build, the examples). Sub-commands live in
 * ./commands, one file each; this file only wires them.
 */
import type { Command } from 'commander';
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
import { baseProgram, runProgram } from './program';

export function buildProgram(): Command {
  const program = baseProgram();
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

export function runCli(argv: readonly string[]): Promise<void> {
  return runProgram(buildProgram(), argv);
}

if (require.main === module) void runCli(process.argv);
