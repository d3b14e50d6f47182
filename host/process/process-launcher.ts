/**
 * Starts processes from a small helper process instead of the calling one.
 *
 * Why: Node starts every child with fork(2), whose cost grows with the parent's memory: the kernel
 * copies the page tables, and afterwards every page the parent writes first faults and is copied
 * (copy-on-write) until the child has exec'd. The local cluster's node agents live inside the test or
 * bench process (hundreds of MiB): measured with Node 24, a spawn blocks the event loop for 2.5 ms at
 * 50 MiB and 14 ms at 480 MiB, and in a burst of 50 pods (three spawns each) spawn() was 35% of the
 * agent's event loop, plus the copy-on-write faults it left in unrelated code (mkdir, socket writes).
 * The helper (launcher-helper.ts) is a bare Node process that does the forking on the other core and
 * reports PIDs and exits over its IPC channel; the processes are its children, everything else about
 * them (process groups, signals, log files) is as with a direct spawn.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { LauncherReply, LauncherRequest } from './launcher-protocol';
import type { Launcher, ManagedProcessOptions, ProcessExit } from './managed-process';
import { processExists } from './process-exists';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

type Waiter = (reply: LauncherReply) => void;

/** How often a process is checked for after the helper died (its exit status is lost with it). */
const ORPHAN_POLL_MS = 500;
/** The exit of a process whose status nobody could read. */
const LOST: ProcessExit = { code: null, signal: null };

export class ProcessLauncher implements Launcher {
  private helper: ChildProcess | undefined;
  private nextId = 1;
  /** Request id → who waits for its next reply. */
  private readonly waiters = new Map<number, Waiter>();
  /** Processes started and not exited yet: pid → the request that started it and its exit. */
  private readonly running = new Map<number, { id: number; resolveExit: (exit: ProcessExit) => void }>();

  /** Starts `options.command` (group leader, output appended to the log file); resolves with its PID. */
  spawn(options: ManagedProcessOptions): Promise<{ pid: number; exited: Promise<ProcessExit> }> {
    return new Promise((resolve, reject) => {
      const id = this.send({
        op: 'spawn',
        id: 0,
        command: options.command,
        args: options.args,
        logFile: options.logFile,
        env: options.env ?? process.env,
        cwd: options.cwd,
      });
      this.wait(id, (started) => {
        if (started.kind !== 'started')
          return reject(new Error(`cannot start ${options.name} (${options.command}): ${describe(started)}`));
        const pid = started.pid;
        const exited = new Promise<ProcessExit>((resolveExit) => {
          this.running.set(pid, { id, resolveExit });
          this.wait(id, (exit) => {
            this.running.delete(pid);
            resolveExit(exit.kind === 'exited' ? { code: exit.code, signal: exit.signal } : LOST);
          });
        });
        resolve({ pid, exited });
      });
    });
  }

  /** Runs a command to completion with `input` on its stdin. Rejects only if it cannot be started. */
  run(command: string, args: readonly string[], input?: string): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      const id = this.send({ op: 'run', id: 0, command, args, input, env: process.env });
      this.wait(id, (done) => {
        if (done.kind !== 'ran') return reject(new Error(`${command}: ${describe(done)}`));
        resolve({ code: done.code, signal: done.signal, stdout: done.stdout, stderr: done.stderr });
      });
    });
  }

  /** Stops the helper (processes it started keep running); a later request starts a new one. */
  close(): void {
    this.helper?.disconnect();
  }

  private send(request: LauncherRequest): number {
    const id = this.nextId++;
    const helper = (this.helper ??= this.startHelper());
    // The caller registers its waiter right after this returns, before any reply can arrive.
    helper.send({ ...request, id });
    return id;
  }

  /** `waiter` gets the next reply to request `id` (and only that one). */
  private wait(id: number, waiter: Waiter): void {
    this.waiters.set(id, (reply) => {
      this.waiters.delete(id);
      waiter(reply);
      this.updateRef();
    });
    this.updateRef();
  }

  private startHelper(): ChildProcess {
    // The helper runs from the same kind of file as this module: its TypeScript source through Node's
    // type stripping (tests, the bench), or the compiled JavaScript (a build).
    const source = __filename.endsWith('.ts');
    const helper = fork(join(__dirname, `launcher-helper.${source ? 'ts' : 'js'}`), [], {
      execArgv: source ? ['--experimental-strip-types', '--disable-warning=ExperimentalWarning'] : [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'json',
    });
    helper.on('message', (reply: LauncherReply) => this.waiters.get(reply.id)?.(reply));
    helper.once('exit', () => this.helperGone(helper));
    helper.once('error', () => this.helperGone(helper));
    return helper;
  }

  /**
   * The helper died: requests in flight fail, and processes it started are watched by PID until they
   * are gone (reparented to init, which reaps them; their exit status is lost with the helper).
   */
  private helperGone(helper: ChildProcess): void {
    if (this.helper !== helper) return;
    this.helper = undefined;
    for (const [pid, { id, resolveExit }] of this.running) {
      this.waiters.delete(id);
      const timer = setInterval(() => {
        if (processExists(pid)) return;
        clearInterval(timer);
        resolveExit(LOST);
      }, ORPHAN_POLL_MS);
    }
    this.running.clear();
    for (const [id, waiter] of [...this.waiters])
      waiter({ id, kind: 'failed', message: 'the process launcher helper exited' });
  }

  /** The helper keeps this process alive only while something waits for it, as a child process would. */
  private updateRef(): void {
    const helper = this.helper;
    if (!helper) return;
    const busy = this.waiters.size > 0;
    if (busy) {
      helper.ref();
      helper.channel?.ref();
    } else {
      helper.unref();
      helper.channel?.unref();
    }
  }
}

function describe(reply: LauncherReply): string {
  return reply.kind === 'failed' ? reply.message : `unexpected reply ${reply.kind}`;
}

let shared: ProcessLauncher | undefined;

/** The process's one launcher (its helper starts with the first request). */
export function sharedLauncher(): ProcessLauncher {
  return (shared ??= new ProcessLauncher());
}
