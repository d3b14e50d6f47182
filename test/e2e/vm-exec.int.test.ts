import { ChildProcessWithoutNullStreams, execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SeedFlow, NeonVmStack, startNeonVmStack } from '../../local-stack';
import { pollUntil, shellJoin } from '../../host';

/**
 * The seed README's access paths on a real VM, through kubectl and the node agent: `ssh guest-vm`,
 * `scp`/`sftp` to guest-vm and `screen /dev/pts/N` inside the runner pod (Debian guest under QEMU, TCG
 * where there is no KVM).
 */
const run = promisify(execFile);

describe('kubectl exec into a NeonVM runner pod', () => {
  jest.setTimeout(600_000);
  let stack: NeonVmStack | undefined;
  let podName = '';
  let flow: SeedFlow;
  const kubectl = (...args: string[]) => stack!.kubectl(...args);

  beforeAll(async () => {
    stack = await startNeonVmStack({ nodes: 1, progress: () => undefined });
    flow = new SeedFlow(stack, () => undefined);
    await flow.apply('vm-debian.yaml');
    const vm = await flow.waitForPhase('vm-debian', 'Running');
    podName = vm.status?.podName ?? '';
  }, 900_000);
  afterAll(async () => {
    await stack?.stop();
  }, 120_000);

  it('reaches the guest with `ssh guest-vm`', async () => {
    // kubectl exec <pod> -- ssh guest-vm uname -a (retried: sshd may come up just after Running).
    const uname = await flow.inGuest('vm-debian', 'uname -a');
    expect(uname).toMatch(/^Linux \S+ \d+\.\d+/);
  });

  it('copies files into the guest with scp and sftp (`kubectl exec <runner pod> -- scp/sftp`)', async () => {
    // upstream's e2e vm-ssh: scp from the runner pod to guest-vm (needs the guest's sftp-server).
    const file = `/tmp/neonvm-scp-${process.pid}-${Date.now()}`;
    await kubectl('exec', podName, '--', 'sh', '-c', `echo scp-payload > ${file}`);
    try {
      await kubectl('exec', podName, '--', 'scp', file, 'guest-vm:/tmp/testfile');
      expect(await flow.inGuest('vm-debian', 'cat /tmp/testfile')).toBe('scp-payload\n');
      const batch = `put ${file} /tmp/via-sftp`;
      await kubectl('exec', podName, '--', 'sh', '-c', `echo '${batch}' | sftp -b - guest-vm`);
      expect(await flow.inGuest('vm-debian', 'cat /tmp/via-sftp')).toBe('scp-payload\n');
    } finally {
      await kubectl('exec', podName, '--', 'rm', '-f', file);
    }
  });

  it('shows the guest console through `screen /dev/pts/N`', async () => {
    const console = (await kubectl('exec', podName, '--', 'readlink', '/vm/runner/console')).trim();
    expect(console).toMatch(/^\/dev\/pts\/\d+$/);
    // kubectl asks for a TTY only when its stdin is one: run it under script(1).
    const argv = [stack!.cluster.binaries.kubectl, '--kubeconfig', stack!.cluster.kubeconfigPath];
    const child: ChildProcessWithoutNullStreams = spawn(
      'script',
      ['-qfec', shellJoin([...argv, 'exec', '-it', podName, '--', 'screen', console]), '/dev/null'],
      { env: { ...process.env, TERM: 'xterm' } },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await pollUntil(
        async () => {
          child.stdin.write('\r');
          return /login:|[#$] /.test(out) ? true : undefined;
        },
        {
          timeoutMs: 60_000,
          intervalMs: 1000,
          description: `a login prompt or shell (got ${JSON.stringify(out)})`,
        },
      );
    } finally {
      child.kill('SIGKILL');
    }
    // Hanging up kills the remote screen (its backend too): nothing left attached to the console.
    await pollUntil(
      async () =>
        (
          await kubectl('exec', podName, '--', 'sh', '-c', `pgrep -i -f "[s]creen ${console}" || true`)
        ).trim() === ''
          ? true
          : undefined,
      { timeoutMs: 20_000, intervalMs: 500, description: 'screen to exit' },
    );
  });

  it('`neonvm ssh <vm> --kubeconfig` runs a command in the guest through the API server', async () => {
    const main = join(__dirname, '..', '..', 'cli', 'main.ts');
    const tsx = join(__dirname, '..', '..', 'node_modules', '.bin', 'tsx');
    const kc = stack!.cluster.kubeconfigPath;
    const { stdout } = await run(tsx, [
      main,
      'ssh',
      'vm-debian',
      '--kubeconfig',
      kc,
      '-n',
      'default',
      '--',
      'uname',
      '-s',
    ]);
    expect(stdout).toBe('Linux\n');
    // ssh hands its arguments to the guest's shell as one line.
    await expect(
      run(tsx, [main, 'ssh', 'vm-debian', '--kubeconfig', kc, '-n', 'default', '--', 'exit 5']),
    ).rejects.toMatchObject({ code: 5 });
  });
});
