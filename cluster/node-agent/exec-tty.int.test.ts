import { CoreV1Api } from '@kubernetes/client-node';
import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { findChildPty, setPtySize } from './streaming';
import { pollUntil, shellJoin } from '../../host';
import {
  createNamespace,
  isReady,
  kubectl,
  useLocalCluster,
  waitForPod,
} from '../testing/local-cluster-fixture';

/** Collects a child's output so a test can wait for a pattern in it. */
class Output {
  text = '';
  constructor(child: ChildProcessWithoutNullStreams) {
    child.stdout.on('data', (d: Buffer) => (this.text += d.toString()));
    child.stderr.on('data', (d: Buffer) => (this.text += d.toString()));
  }
  async waitFor(pattern: RegExp, from = 0): Promise<RegExpExecArray> {
    let match: RegExpExecArray | null = null;
    await until(
      () => (match = pattern.exec(this.text.slice(from))) !== null,
      `output matching ${pattern} (got ${JSON.stringify(this.text.slice(from))}, all ${JSON.stringify(this.text)})`,
    );
    return match!;
  }
}

/** Waits until `check` holds (polling; the agent runs in this process, so never block). */
const until = (check: () => boolean, description: string, timeoutMs = 20_000): Promise<true> =>
  pollUntil(async () => (check() ? true : undefined), { timeoutMs, intervalMs: 50, description });

const exited = (child: ChildProcessWithoutNullStreams): Promise<number | null> =>
  new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.on('exit', resolve)));

describe('kubectl exec -it and attach through the node agent', () => {
  const cluster = useLocalCluster({ nodes: 1 });
  let core: CoreV1Api;
  let namespace: string;
  beforeAll(async () => {
    core = cluster().kubeConfig.makeApiClient(CoreV1Api);
    namespace = await createNamespace(core, 'tty');
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: 'target' },
        spec: {
          containers: [
            // `cat` echoes what attach sends to its stdin; exec'd commands run beside it.
            { name: 'main', image: 'neonvm-test/shell', command: ['cat'], stdin: true },
          ],
        },
      },
    });
    await waitForPod(core, namespace, 'target', isReady);
  });
  const kc = () => ['--kubeconfig', cluster().kubeconfigPath, '-n', namespace];

  it('runs plain commands: output, exit codes, stdin', async () => {
    expect(await kubectl(cluster(), '-n', namespace, 'exec', 'target', '--', 'echo', 'hi')).toBe('hi\n');
    await expect(kubectl(cluster(), '-n', namespace, 'exec', 'target', '--', 'false')).rejects.toMatchObject({
      code: 1,
    });
    const child = spawn(cluster().binaries.kubectl, [...kc(), 'exec', '-i', 'target', '--', 'cat']);
    const out = new Output(child);
    child.stdin.end('data\n');
    expect(await exited(child)).toBe(0);
    expect(out.text).toBe('data\n');
  });

  it('gives -it a terminal that follows resizes, and reports the exit status', async () => {
    // kubectl only asks for a TTY when its own stdin is a terminal: run it under script(1).
    const argv = [cluster().binaries.kubectl, ...kc(), 'exec', '-it', 'target', '--', 'sh'];
    const child = spawn('script', ['-qfec', shellJoin(argv), '/dev/null'], {
      env: { ...process.env, TERM: 'xterm' },
    });
    const out = new Output(child);
    try {
      let tty: string | undefined;
      await until(() => (tty = findChildPty(child.pid!)) !== undefined, "kubectl's terminal", 5000);
      await out.waitFor(/[#$] $/m);
      // Resize only once kubectl runs its session, so stty does not race kubectl's switch to raw mode.
      // Each step retypes its command until the answer shows (the first keystrokes may beat the session).
      const ask = async (command: string, answer: RegExp): Promise<void> => {
        const mark = out.text.length;
        await pollUntil(
          async () => {
            child.stdin.write(`${command}\n`);
            return answer.test(out.text.slice(mark)) ? true : undefined;
          },
          { timeoutMs: 20_000, intervalMs: 1000, description: `${answer} (got ${JSON.stringify(out.text)})` },
        );
      };
      await setPtySize(tty!, { cols: 100, rows: 30 });
      // A terminal on the far side: tty(1) names a pty, of the client's size.
      await ask('tty; stty size', /\/dev\/pts\/\d+\s+30 100/);
      // The client's terminal is resized: SIGWINCH -> kubectl -> resize stream -> TIOCSWINSZ.
      await setPtySize(tty!, { cols: 123, rows: 45 });
      await ask('stty size', /45 123/);
      child.stdin.write('exit 3\n');
      expect(await exited(child)).toBe(3);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('attaches to the running container: stdin in, output out, container survives the client', async () => {
    const child = spawn(cluster().binaries.kubectl, [...kc(), 'attach', '-i', 'target', '-c', 'main']);
    const out = new Output(child);
    try {
      // The attach session starts asynchronously; resend until the echo comes back.
      await pollUntil(
        async () => {
          child.stdin.write('ping through attach\n');
          return out.text.includes('ping through attach') ? true : undefined;
        },
        {
          timeoutMs: 20_000,
          intervalMs: 500,
          description: `echo through kubectl attach (got ${JSON.stringify(out.text)})`,
        },
      );
    } finally {
      child.kill('SIGINT');
      await exited(child);
    }
    const pod = await core.readNamespacedPod({ namespace, name: 'target' });
    expect(pod.status?.containerStatuses?.[0].state?.running).toBeDefined();
    expect(await kubectl(cluster(), '-n', namespace, 'logs', 'target')).toContain('ping through attach');
  });

  it("runs exec'd commands in a private mount namespace with the pod's mounts and /etc/hosts", async () => {
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: 'mounts' },
        spec: {
          containers: [
            {
              name: 'main',
              image: 'neonvm-test/shell',
              // As the runner does: files under $NEONVM_POD_ROOT, a guest-vm line in the pod's /etc/hosts.
              command: [
                'sh',
                '-c',
                'echo key > $NEONVM_POD_ROOT/mnt/ssh/id_ed25519 && ' +
                  'echo "169.254.254.254 guest-vm" >> $NEONVM_POD_ROOT/etc/hosts && touch $NEONVM_POD_ROOT/ready && sleep 600',
              ],
              volumeMounts: [{ name: 'ssh', mountPath: '/mnt/ssh' }],
              readinessProbe: { exec: { command: ['test', '-e', 'ready'] }, periodSeconds: 1 },
            },
          ],
          volumes: [{ name: 'ssh', emptyDir: {} }],
        },
      },
    });
    await waitForPod(core, namespace, 'mounts', isReady).catch(async (err: Error) => {
      const pod = await core.readNamespacedPod({ namespace, name: 'mounts' });
      const logs = await kubectl(cluster(), '-n', namespace, 'logs', 'mounts').catch(() => '');
      throw new Error(`${err.message}: ${JSON.stringify(pod.status?.containerStatuses)} logs ${logs}`);
    });
    const exec = (script: string) =>
      kubectl(cluster(), '-n', namespace, 'exec', 'mounts', '--', 'sh', '-c', script);
    expect(await exec('cat /mnt/ssh/id_ed25519')).toBe('key\n');
    expect(await exec('grep guest-vm /etc/hosts')).toBe('169.254.254.254 guest-vm\n');
    expect(await exec('test -e ready && echo in-root')).toBe('in-root\n');
    if (existsSync('/etc/ssh/ssh_config'))
      expect(await exec('cat /etc/ssh/ssh_config')).toContain('IdentityFile /mnt/ssh/id_ed25519');
    // Nothing leaked to the host.
    expect(readFileSync('/etc/hosts', 'utf8')).not.toContain('guest-vm');
    expect(existsSync('/mnt/ssh/id_ed25519')).toBe(false);
  });
});
