import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { registerEmergencyCleanup } from './emergency-cleanup';

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ManagedProcessOptions {
  name: string;
  command: string;
  args: readonly string[];
  /** stdout and stderr are appended here (a file, not a pipe, so a chatty child can never block). */
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Keep a pipe to the child's stdin (a container with `stdin: true`, for kubectl attach). */
  stdin?: boolean;
}

/**
 * A child process started as the leader of its own process group, so that stopping it also stops
 * everything it spawned. Registered for emergency cleanup until it has exited.
 */
export class ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  readonly exited: Promise<ProcessExit>;
  /** The child's stdin when started with `stdin: true`. */
  stdin: Writable | undefined;
  private exitInfo: ProcessExit | undefined;

  private constructor(name: string, pid: number, logFile: string, exited: Promise<ProcessExit>) {
    this.name = name;
    this.pid = pid;
    this.logFile = logFile;
    this.exited = exited.then((info) => (this.exitInfo = info));
  }

  static start(options: ManagedProcessOptions): ManagedProcess {
    const fd = openSync(options.logFile, 'a');
    try {
      const child = spawn(options.command, options.args, {
        detached: true,
        stdio: [options.stdin ? 'pipe' : 'ignore', fd, fd],
        env: options.env ?? process.env,
        cwd: options.cwd,
      });
      if (child.pid === undefined) throw new Error(`cannot start ${options.name} (${options.command})`);
      const pid = child.pid;
      const unregister = registerEmergencyCleanup(`kill ${options.name} (${pid})`, () =>
        killGroup(pid, 'SIGKILL'),
      );
      const exited = new Promise<ProcessExit>((resolve) => {
        child.once('exit', (code, signal) => {
          // The leader is gone but members of its group may live on: take them down too.
          killGroup(pid, 'SIGKILL');
          unregister();
          resolve({ code, signal });
        });
        child.once('error', () => {
          unregister();
          resolve({ code: null, signal: null });
        });
      });
      const managed = new ManagedProcess(options.name, pid, options.logFile, exited);
      if (child.stdin) {
        // Writes after the child is gone must not crash the agent.
        child.stdin.on('error', () => undefined);
        managed.stdin = child.stdin;
      }
      return managed;
    } finally {
      closeSync(fd);
    }
  }

  get hasExited(): boolean {
    return this.exitInfo !== undefined;
  }

  get exitStatus(): ProcessExit | undefined {
    return this.exitInfo;
  }

  /** SIGTERM to the group, SIGKILL after `graceMs` if it is still alive. */
  async stop(graceMs = 5000): Promise<ProcessExit> {
    if (this.exitInfo) return this.exitInfo;
    killGroup(this.pid, 'SIGTERM');
    const timer = setTimeout(() => killGroup(this.pid, 'SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The last lines of the log, for error messages. */
  logTail(lines = 30): string {
    try {
      return readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }
}

export function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: already gone.
  }
}
