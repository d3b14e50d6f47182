import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { findRunner } from '../vm-state';

/** `neonvm ssh <vm> [command...]`: ssh into the guest through the runner's ssh_config (`guest-vm`). */
export async function runSsh(target: { name?: string; dir?: string }, command: string[]): Promise<number> {
  const info = await findRunner(target);
  return new Promise((resolve, reject) => {
    const child = spawn('ssh', ['-F', info.sshConfig, 'guest-vm', ...command], { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

export function registerSsh(program: Command): void {
  program
    .command('ssh')
    .description('open a shell (or run a command) in a running VM over SSH')
    .argument('[vm]', 'name of a `neonvm run` VM')
    .argument('[command...]', 'command to run instead of a shell')
    .option('--dir <dir>', 'runner state directory or pod root instead of a VM name')
    .action(async (vm: string | undefined, command: string[], opts: { dir?: string }) => {
      process.exitCode = await runSsh({ name: vm, dir: opts.dir }, command);
    });
}
