import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { registerEmergencyCleanup } from './emergency-cleanup';

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Starts processes elsewhere (a {@link ProcessLauncher}); what {@link ManagedProcess.launch} needs. */
export interface Launcher {
  /** Starts the process as leader of its own group; resolves once it has a PID. */
  spawn(options: ManagedProcessOptions): Promise<{ pid: number; exited: Promise<ProcessExit> }>;
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
      const exited = new Promise<ProcessExit>((resolve) => {
        child.once('exit', (code, signal) => resolve({ code, signal }));
        child.once('error', () => resolve({ code: null, signal: null }));
      });
      const managed = ManagedProcess.track(options.name, child.pid, options.logFile, exited);
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

  /**
   * Like {@link start}, but the process is started by `launcher`'s helper process rather than forked
   * from this one (see process-launcher.ts for why). A process that needs a stdin pipe is started
   * here, as by {@link start}. Rejects if the command cannot be started.
   */
  static async launch(options: ManagedProcessOptions, launcher: Launcher): Promise<ManagedProcess> {
    if (options.stdin) return ManagedProcess.start(options);
    const { pid, exited } = await launcher.spawn(options);
    return ManagedProcess.track(options.name, pid, options.logFile, exited);
  }

  /** Registers emergency cleanup for a started process group until its leader has exited. */
  private static track(
    name: string,
    pid: number,
    logFile: string,
    exit: Promise<ProcessExit>,
  ): ManagedProcess {
    const unregister = registerEmergencyCleanup(`kill ${name} (${pid})`, () => killGroup(pid, 'SIGKILL'));
    const exited = exit.then((info) => {
      // The leader is gone but members of its group may live on: take them down too.
      killGroup(pid, 'SIGKILL');
      unregister();
      return info;
    });
    return new ManagedProcess(name, pid, logFile, exited);
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
