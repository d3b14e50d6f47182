import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { ClusterTarget, execInRunner, findRunnerPod, resolveVmTarget, sshCommand } from '../cluster-exec';

/** `neonvm ssh <vm> [command...]`: ssh into the guest through the runner's ssh_config (`guest-vm`). */
export async function runSsh(
  target: { name?: string; dir?: string },
  command: string[],
  cluster: ClusterTarget = {},
): Promise<number> {
  const where = await resolveVmTarget(target, cluster);
  if ('clusterVm' in where)
    return execInRunner(
      await findRunnerPod(where.clusterVm, cluster),
      sshCommand(command),
      process.stdin.isTTY === true,
    );
  const info = where.local;
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
    .argument('[vm]', 'name of a `neonvm run` VM, or of a VirtualMachine in the cluster')
    .argument('[command...]', 'command to run instead of a shell')
    .option('--dir <dir>', 'runner state directory or pod root instead of a VM name')
    .option('--kubeconfig <file>', 'cluster mode: kubeconfig (default $KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'cluster mode: kubeconfig context')
    .option('-n, --namespace <ns>', "cluster mode: the VirtualMachine's namespace")
    .action(async (vm: string | undefined, command: string[], opts: { dir?: string } & ClusterTarget) => {
      process.exitCode = await runSsh({ name: vm, dir: opts.dir }, command, opts);
    });
}
