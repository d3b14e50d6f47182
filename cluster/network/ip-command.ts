import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Runs `ip <args>`; failures carry ip's stderr. */
export async function ip(...args: string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync('ip', args);
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`ip ${args.join(' ')}: ${(e.stderr ?? e.message).trim()}`);
  }
}

/**
 * Runs several `ip` commands in one process (`ip [-n netns] [-force] -batch -`), one per line. With
 * `force`, later commands still run after a failing one and no error is reported (for cleanup).
 */
export function ipBatch(
  commands: readonly string[],
  options: { netns?: string; force?: boolean } = {},
): Promise<void> {
  const args = [
    ...(options.netns ? ['-n', options.netns] : []),
    ...(options.force ? ['-force'] : []),
    '-batch',
    '-',
  ];
  return new Promise((resolve, reject) => {
    const child = execFile('ip', args, (err, _stdout, stderr) => {
      if (err && !options.force) reject(new Error(`ip ${args.join(' ')}: ${(stderr || err.message).trim()}`));
      else resolve();
    });
    child.stdin?.end(`${commands.join('\n')}\n`);
  });
}

/** Synchronous variant for exit handlers; never throws (cleanup is best-effort). */
export function ipSync(...args: string[]): string {
  try {
    return execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  } catch {
    return '';
  }
}

export function parseNetnsList(output: string): string[] {
  // `ip netns list` prints "name" or "name (id: 3)" per line.
  return output
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0])
    .filter((n) => n);
}

export function parseLinkNames(jsonOutput: string): string[] {
  if (!jsonOutput.trim()) return [];
  return (JSON.parse(jsonOutput) as { ifname: string }[]).map((l) => l.ifname);
}
