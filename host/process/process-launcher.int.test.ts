import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManagedProcess } from './managed-process';
import { ProcessLauncher } from './process-launcher';

describe('ProcessLauncher', () => {
  let dir: string;
  let launcher: ProcessLauncher;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'neonvm-launcher-'));
    launcher = new ProcessLauncher();
  });
  afterEach(() => {
    launcher.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts a process group leader with its env, cwd and log file, and reports its exit', async () => {
    const logFile = join(dir, 'out.log');
    const proc = await ManagedProcess.launch(
      {
        name: 'shell',
        command: 'sh',
        args: ['-c', 'echo "$GREETING from $(pwd)"; ps -o pgid= -p $$; exit 3'],
        logFile,
        env: { GREETING: 'hello', PATH: process.env.PATH },
        cwd: dir,
      },
      launcher,
    );
    expect(await proc.exited).toEqual({ code: 3, signal: null });
    const [greeting, pgid] = readFileSync(logFile, 'utf8').trim().split('\n');
    expect(greeting).toBe(`hello from ${dir}`);
    expect(Number(pgid)).toBe(proc.pid);
  });

  it('stops the process group by PID, as a directly spawned process', async () => {
    const proc = await ManagedProcess.launch(
      { name: 'sleeper', command: 'sh', args: ['-c', 'sleep 60 & wait'], logFile: join(dir, 'log') },
      launcher,
    );
    expect(await proc.stop(5000)).toEqual({ code: null, signal: 'SIGTERM' });
    expect(proc.hasExited).toBe(true);
  });

  it('rejects a command that cannot be started, naming it', async () => {
    await expect(
      ManagedProcess.launch(
        { name: 'missing', command: 'neonvm-no-such-command', args: [], logFile: join(dir, 'log') },
        launcher,
      ),
    ).rejects.toThrow('cannot start missing (neonvm-no-such-command): spawn neonvm-no-such-command ENOENT');
  });

  it('runs a command to completion with input, returning its output and status', async () => {
    expect(await launcher.run('sh', ['-c', 'cat; echo oops >&2; exit 2'], 'piped\n')).toEqual({
      code: 2,
      signal: null,
      stdout: 'piped\n',
      stderr: 'oops\n',
    });
  });

  it('still sees a process end after the helper is gone, and starts a new helper for the next request', async () => {
    const proc = await ManagedProcess.launch(
      { name: 'short', command: 'sleep', args: ['1'], logFile: join(dir, 'log') },
      launcher,
    );
    launcher.close();
    // Its exit status went with the helper; that it ended does not.
    expect(await proc.exited).toEqual({ code: null, signal: null });
    expect((await launcher.run('echo', ['again'])).stdout).toBe('again\n');
  });
});
