/**
 * Spawning QEMU with PID tracking: every process started here is killed when the owner asks
 * (killAll) and, as a last resort, when Node exits, because an orphaned TCG QEMU keeps a core busy.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';

export interface QemuProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Resolves with the exit code (or signal name) when QEMU exits. */
  readonly exited: Promise<number | string>;
  /** SIGKILLs QEMU (if still running) and waits for it to exit. */
  kill(): Promise<void>;
}

export interface SpawnQemuOptions {
  /** File receiving QEMU's stdout+stderr (the serial console with `-serial stdio`). */
  readonly logFile?: string;
  /** Called with every stdout/stderr chunk (e.g. to wait for the guest's ready line). */
  readonly onOutput?: (chunk: string) => void;
  /**
   * Start QEMU in its own process group, so a terminal's Ctrl-C (SIGINT to the foreground group)
   * reaches only the owner, which then shuts the guest down cleanly. Default false.
   */
  readonly newProcessGroup?: boolean;
}

const live = new Set<QemuProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const p of live) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

export function spawnQemu(binary: string, args: readonly string[], opts: SpawnQemuOptions = {}): QemuProcess {
  installExitHook();
  const child = spawn(binary, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: opts.newProcessGroup ?? false,
  });
  if (child.pid === undefined) throw new Error(`cannot spawn ${binary}`);
  const log = opts.logFile ? createWriteStream(opts.logFile) : undefined;
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      log?.write(chunk);
      opts.onOutput?.(chunk);
    });
  }
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => {
      live.delete(proc);
      log?.end();
      resolve(code ?? signal ?? 'unknown');
    });
  });
  const proc: QemuProcess = {
    pid: child.pid,
    child,
    exited,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
  live.add(proc);
  return proc;
}

/** Kills every QEMU started by this process that is still running. */
export async function killAllQemu(): Promise<void> {
  await Promise.all([...live].map((p) => p.kill()));
}

/** PIDs of the QEMU processes still running (tests assert this is empty after teardown). */
export function liveQemuPids(): number[] {
  return [...live].map((p) => p.pid);
}
