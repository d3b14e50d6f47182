/**
 * Makes the runner available as the `runner` command the runner pod's container runs (upstream's pod
 * spec says `command: [runner, ...]`; on the local cluster containers are host processes that find
 * commands on the agent's PATH).
 */
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export interface RunnerCommand {
  /** Directory holding the `runner` executable; prepended to PATH. */
  readonly dir: string;
  remove(): void;
}

const repoRoot = resolve(__dirname, '..', '..');

/** The TypeScript source in a checkout (never a stale build), the compiled runner in an installed package. */
export function runnerInvocation(): string[] {
  const source = join(repoRoot, 'runner', 'main.ts');
  if (existsSync(source)) {
    return [process.execPath, '--import', join(repoRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs'), source];
  }
  return [process.execPath, join(repoRoot, 'lib', 'runner', 'main.js')];
}

export function installRunnerCommand(env: NodeJS.ProcessEnv = process.env): RunnerCommand {
  const dir = mkdtempSync(join(tmpdir(), 'neonvm-runner-bin-'));
  const quoted = runnerInvocation()
    .map((a) => `'${a.replace(/'/g, `'\\''`)}'`)
    .join(' ');
  writeFileSync(join(dir, 'runner'), `#!/bin/sh\nexec ${quoted} "$@"\n`);
  chmodSync(join(dir, 'runner'), 0o755);
  env.PATH = `${dir}:${env.PATH ?? ''}`;
  return {
    dir,
    remove: () => {
      env.PATH = (env.PATH ?? '')
        .split(':')
        .filter((p) => p !== dir)
        .join(':');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
