/**
 * The `neonvm` program without its commands: both entry points (the repository's cli/main.ts and the
 * published package's cli/package-main.ts) build it and add the commands they ship.
 */
import { Command } from 'commander';

export function baseProgram(): Command {
  return new Command('neonvm')
    .description('NeonVM as infrastructure-as-code: QEMU virtual machines on Kubernetes')
    .showHelpAfterError();
}

/** Parses argv and runs the command; errors print their message (no stack) and set exit code 1. */
export async function runProgram(program: Command, argv: readonly string[]): Promise<void> {
  try {
    await program.parseAsync([...argv]);
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  }
}
