/**
 * The helper program of {@link ProcessLauncher} (process-launcher.ts): a small Node process that starts
 * processes on behalf of its (large) parent and reports their PIDs and exits over the IPC channel.
 *
 * It is a program of its own, run from its source by Node's type stripping (or compiled, in a build):
 * erasable TypeScript only, and CommonJS `require` rather than import statements, so Node parses the
 * stripped source as the CommonJS module it is compiled to.
 */
import type { LauncherReply, LauncherRequest } from './launcher-protocol';

/* eslint-disable @typescript-eslint/no-require-imports -- see above: no import statements at run time */
const childProcess = require('node:child_process') as typeof import('node:child_process');
const fs = require('node:fs') as typeof import('node:fs');
/* eslint-enable @typescript-eslint/no-require-imports */

function reply(message: LauncherReply): void {
  process.send?.(message);
}

function spawnProcess(request: Extract<LauncherRequest, { op: 'spawn' }>): void {
  let fd: number;
  try {
    fd = fs.openSync(request.logFile, 'a');
  } catch (err) {
    return reply({ id: request.id, kind: 'failed', message: (err as Error).message });
  }
  try {
    const child = childProcess.spawn(request.command, request.args, {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: request.env ?? process.env,
      cwd: request.cwd,
    });
    let started = false;
    child.once('error', (err) => {
      if (started) reply({ id: request.id, kind: 'exited', code: null, signal: null });
      else reply({ id: request.id, kind: 'failed', message: err.message });
    });
    if (child.pid === undefined) return;
    started = true;
    reply({ id: request.id, kind: 'started', pid: child.pid });
    child.once('exit', (code, signal) => reply({ id: request.id, kind: 'exited', code, signal }));
  } finally {
    fs.closeSync(fd);
  }
}

function runProcess(request: Extract<LauncherRequest, { op: 'run' }>): void {
  const child = childProcess.spawn(request.command, request.args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: request.env ?? process.env,
  });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => stdout.push(b));
  child.stderr.on('data', (b: Buffer) => stderr.push(b));
  child.once('error', (err) => reply({ id: request.id, kind: 'failed', message: err.message }));
  child.once('close', (code, signal) =>
    reply({
      id: request.id,
      kind: 'ran',
      code,
      signal,
      stdout: Buffer.concat(stdout).toString(),
      stderr: Buffer.concat(stderr).toString(),
    }),
  );
  child.stdin.on('error', () => undefined); // the command may exit before reading everything
  child.stdin.end(request.input ?? '');
}

process.on('message', (request: LauncherRequest) => {
  if (request.op === 'spawn') spawnProcess(request);
  else runProcess(request);
});
// The parent is gone: nothing will read our replies. Its processes are their own group leaders and
// outlive us; the parent's emergency cleanup (or the test's teardown) stops them.
process.on('disconnect', () => process.exit(0));
