#!/usr/bin/env node
/**
 * The `neonvm` command of the published npm package: the commands that work on files alone
 * (`validate`, `diff`, `crds`). The others need a clone of the repository — the guest build recipe,
 * the Go toolchain builds, the local cluster, the examples — and say so instead of failing on a
 * missing file; they are listed in `--help` under the same names.
 */
import type { Command } from 'commander';
import { registerCrds } from './commands/crds';
import { registerDiff } from './commands/diff';
import { registerValidate } from './commands/validate';
import { baseProgram, runProgram } from './program';

export const REPOSITORY_ONLY_COMMANDS: Readonly<Record<string, string>> = {
  start: 'the main job: a local Kubernetes with the operator and QEMU VMs',
  run: 'boot a VM from a spec file without a cluster',
  console: "attach to a VM's serial console",
  ssh: 'ssh into a VM',
  image: 'build a VM disk image from a container image',
  synth: "synthesize the repository's cdk8s, Pulumi and app-repo examples",
  pulumi: "run the repository's example Pulumi program with the locally built CLI",
};

export function repositoryOnlyMessage(command: string): string {
  return (
    `\`neonvm ${command}\` needs a clone of the NeonVM repository (it builds toolchains, the guest image ` +
    `and a local cluster from the repository's scripts); this installed package ships only ` +
    `\`neonvm validate\`, \`neonvm diff\` and \`neonvm crds\`.\n` +
    `In a clone: npm ci && npx neonvm ${command} …  (see the repository's README)`
  );
}

export function buildPackageProgram(): Command {
  const program = baseProgram();
  registerValidate(program);
  registerDiff(program);
  registerCrds(program);
  for (const [name, what] of Object.entries(REPOSITORY_ONLY_COMMANDS)) {
    program
      .command(name)
      .description(`${what} (repository only)`)
      .allowUnknownOption()
      .allowExcessArguments()
      .helpOption(false)
      .argument('[args...]')
      .action(() => {
        throw new Error(repositoryOnlyMessage(name));
      });
  }
  return program;
}

if (require.main === module) void runProgram(buildPackageProgram(), process.argv);
