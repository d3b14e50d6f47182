/**
 * Makes the runner available as the `runner` command the runner pod's container runs (upstream's pod
 * spec says `command: [runner, ...]`; on the local cluster containers are host processes that find
 * commands on the agent's PATH).
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { packagePath } from '../host';

export interface RunnerCommand {
  /** Directory holding the `runner` executable; prepended to PATH. */
  readonly dir: string;
  remove(): void;
}

/**
 * How to run one of our programs (`runner/main`, `operator/main`) built with this module: compiled JS
 * when this file is compiled (npm start, an installed package: no transpiler in long-running
 * processes), else the TypeScript source through tsx (tests).
 */
export function programInvocation(program: 'runner' | 'operator'): string[] {
  if (__filename.endsWith('.js')) return [process.execPath, resolve(__dirname, '..', program, 'main.js')];
  const loader = packagePath(__dirname, 'node_modules/tsx/dist/loader.mjs');
  return [process.execPath, '--import', loader, resolve(__dirname, '..', program, 'main.ts')];
}

export function runnerInvocation(): string[] {
  return programInvocation('runner');
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
