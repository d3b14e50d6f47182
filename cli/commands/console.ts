import { constants, openSync, writeSync, closeSync } from 'node:fs';
import { ReadStream } from 'node:tty';
import type { Command } from 'commander';
import {
  ClusterTarget,
  CONSOLE_COMMAND,
  execInRunner,
  findRunnerPod,
  resolveVmTarget,
} from '../cluster-exec';

const DETACH = 0x1d; // Ctrl-]

/**
 * `neonvm console <vm>`: attaches the terminal to the guest's serial console pty (the runner
 * prints and records its path; `screen /dev/pts/N` works as well). Ctrl-] detaches.
 */
export async function runConsole(
  target: { name?: string; dir?: string },
  cluster: ClusterTarget = {},
): Promise<number> {
  const where = await resolveVmTarget(target, cluster);
  if ('clusterVm' in where) {
    // screen in the runner pod owns the pty there; Ctrl-A k ends it.
    console.error('console through the runner pod (screen); Ctrl-A k to leave');
    return execInRunner(await findRunnerPod(where.clusterVm, cluster), CONSOLE_COMMAND, true);
  }
  const info = where.local;
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
    .argument('[vm]', 'name of a `neonvm run` VM, or of a VirtualMachine in the cluster')
    .option('--dir <dir>', 'runner state directory or pod root instead of a VM name')
    .option('--kubeconfig <file>', 'cluster mode: kubeconfig (default $KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'cluster mode: kubeconfig context')
    .option('-n, --namespace <ns>', "cluster mode: the VirtualMachine's namespace")
    .action(async (vm: string | undefined, opts: { dir?: string } & ClusterTarget) => {
      process.exitCode = await runConsole({ name: vm, dir: opts.dir }, opts);
    });
}
