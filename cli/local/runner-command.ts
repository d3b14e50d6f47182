/**
 * Makes the runner available as the `runner` command the runner pod's container runs (upstream's pod
 * spec says `command: [runner, ...]`; on the local cluster containers are host processes that find
 * commands on the agent's PATH). Uses the compiled runner when `npm run build` produced one, else
 * runs the TypeScript source through tsx.
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

export function runnerInvocation(): string[] {
  const compiled = join(repoRoot, 'lib', 'runner', 'main.js');
  if (existsSync(compiled)) return [process.execPath, compiled];
  return [
    process.execPath,
    '--import',
    join(repoRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs'),
    join(repoRoot, 'runner', 'main.ts'),
  ];
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
