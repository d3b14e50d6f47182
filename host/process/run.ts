/** Running host tools to completion, with errors that say which command failed and why. */
import { spawn } from 'node:child_process';

export interface RunOptions {
  readonly cwd?: string;
  /** Written to the child's stdin. */
  readonly input?: Buffer;
  readonly env?: NodeJS.ProcessEnv;
  /** SIGKILL the command and fail after this long (default: no limit). */
  readonly timeoutMs?: number;
}

/** Runs argv to completion and returns its stdout; rejects with the tail of stderr on failure. */
export function run(argv: readonly string[], opts: RunOptions = {}): Promise<Buffer> {
  const [cmd, ...args] = argv;
  if (!cmd) return Promise.reject(new Error('run: empty command'));
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let timedOut = false;
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => ((timedOut = true), child.kill('SIGKILL')), opts.timeoutMs);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => reject(new Error(`${cmd}: ${e.message}`)));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve(Buffer.concat(out));
      const stderr = Buffer.concat(err).toString().trim().split('\n').slice(-10).join('\n');
      const how = timedOut ? `timed out after ${opts.timeoutMs} ms` : (signal ?? `exit ${code}`);
      reject(new Error(`${argv.join(' ')} failed (${how}): ${stderr}`));
    });
    child.stdin.on('error', () => undefined); // the child may exit before reading everything
    child.stdin.end(opts.input);
  });
}

export async function runText(argv: readonly string[], opts: RunOptions = {}): Promise<string> {
  return (await run(argv, opts)).toString();
}
