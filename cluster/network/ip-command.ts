import { execFileSync } from 'node:child_process';
import { sharedLauncher } from '../../host';

// `ip` runs are started by the process launcher's helper, not forked from this (large) process: see
// host/process/process-launcher.ts.

/** Runs `ip <args>`; failures carry ip's stderr. */
export async function ip(...args: string[]): Promise<string> {
  const r = await sharedLauncher().run('ip', args);
  if (r.code !== 0)
    throw new Error(`ip ${args.join(' ')}: ${(r.stderr || `exit ${r.code ?? r.signal}`).trim()}`);
  return r.stdout;
}

/**
 * Runs several `ip` commands in one process (`ip [-n netns] [-force] -batch -`), one per line. With
 * `force`, later commands still run after a failing one and no error is reported (for cleanup).
 */
export async function ipBatch(
  commands: readonly string[],
  options: { netns?: string; force?: boolean } = {},
): Promise<void> {
  const args = [
    ...(options.netns ? ['-n', options.netns] : []),
    ...(options.force ? ['-force'] : []),
    '-batch',
    '-',
  ];
  const r = await sharedLauncher()
    .run('ip', args, `${commands.join('\n')}\n`)
    .catch((err: Error) => ({ code: null, signal: null, stdout: '', stderr: err.message }));
  if (r.code !== 0 && !options.force)
    throw new Error(`ip ${args.join(' ')}: ${(r.stderr || `exit ${r.code ?? r.signal}`).trim()}`);
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
