import { constants, openSync, writeSync, closeSync } from 'node:fs';
import { ReadStream } from 'node:tty';
import type { Command } from 'commander';
import { findRunner } from '../vm-state';

const DETACH = 0x1d; // Ctrl-]

/**
 * `neonvm console <vm>`: attaches the terminal to the guest's serial console pty (the runner
 * prints and records its path; `screen /dev/pts/N` works as well). Ctrl-] detaches.
 */
export async function runConsole(target: { name?: string; dir?: string }): Promise<number> {
  const info = await findRunner(target);
  if (!info.consolePty) throw new Error('the runner reported no console pty');
  const fd = openSync(info.consolePty, constants.O_RDWR | constants.O_NOCTTY);
  const pty = new ReadStream(fd);
  console.error(`connected to ${info.consolePty} (${info.podName}); Ctrl-] to detach`);
  return new Promise((resolve) => {
    const stdin = process.stdin;
    const done = () => {
      if (stdin.isTTY) stdin.setRawMode(false);
      stdin.pause();
      pty.destroy();
      try {
        closeSync(fd);
      } catch {
        // closed with the stream
      }
      console.error('\ndetached');
      resolve(0);
    };
    if (stdin.isTTY) stdin.setRawMode(true);
    stdin.on('data', (b: Buffer) => {
      if (b.includes(DETACH)) return done();
      writeSync(fd, b);
    });
    pty.on('data', (b: Buffer) => process.stdout.write(b));
    pty.on('error', done);
    writeSync(fd, '\n'); // show a prompt
  });
}

export function registerConsole(program: Command): void {
  program
    .command('console')
    .description("attach to a running VM's serial console")
    .argument('[vm]', 'name of a `neonvm run` VM')
    .option('--dir <dir>', 'runner state directory or pod root instead of a VM name')
    .action(async (vm: string | undefined, opts: { dir?: string }) => {
      process.exitCode = await runConsole({ name: vm, dir: opts.dir });
    });
}
