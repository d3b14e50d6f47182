/**
 * One long-lived `ip -force -batch -` process that runs the host-side network commands of every pod
 * start and stop (namespace, veth pair, bridge port; namespace and link removal).
 *
 * Why: starting a process costs ~1.3-2.5 ms of CPU on this project's 2-core CI machines (measured:
 * fork+exec of /bin/true from a shell 1.3 ms, `ip -batch` with one command 2.4 ms), and a pod start
 * started four (two `ip` batches, the namespace holder, the container). In a burst of 50 pods the
 * cluster is bound by CPU on both cores (bench cluster: ~40 ms per pod, 11 ms of it in the launcher
 * helper and the processes it starts), so a process less per pod start is CPU the API server gets.
 *
 * How results are read back: ip reads its commands line by line, and with `-force` keeps going after a
 * failed one, reporting `Command failed -:<line>` on stderr after the command's own message. After each
 * request's commands comes a sentinel that always fails (`link show dev` with a name longer than
 * IFNAMSIZ), so its `Command failed` line marks the end of the request, and every failure reported in
 * between belongs to one of the request's lines. Requests are pipelined; ip answers them in order.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

/** Always fails: interface names are at most 15 characters. */
export const SENTINEL_COMMAND = 'link show dev neonvm-end-of-request';

/** A command of a request that ip reported as failed, with ip's message. */
export interface IpFailure {
  command: string;
  message: string;
}

interface Pending {
  /** Input line numbers (1-based, counted over the process's whole stdin) of the commands. */
  firstLine: number;
  commands: readonly string[];
  failures: IpFailure[];
  resolve: (failures: IpFailure[]) => void;
}

/**
 * Matches ip's stderr to requests (pure: fed stderr lines, it resolves the requests they complete).
 * `message` collects the lines ip printed for a command before its `Command failed -:<n>` line.
 */
export class IpBatchReplies {
  private readonly pending: Pending[] = [];
  private nextLine = 1;
  private message: string[] = [];

  /** Registers a request; returns the text to write to ip's stdin (its commands and the sentinel). */
  add(commands: readonly string[], resolve: (failures: IpFailure[]) => void): string {
    for (const c of commands)
      if (c.includes('\n') || !c.trim()) throw new Error(`ip batch command must be one non-empty line: ${c}`);
    this.pending.push({ firstLine: this.nextLine, commands, failures: [], resolve });
    this.nextLine += commands.length + 1;
    return `${[...commands, SENTINEL_COMMAND].join('\n')}\n`;
  }

  /** One line of ip's stderr. */
  line(text: string): void {
    const m = /^Command failed -:(\d+)$/.exec(text.trim());
    if (!m) {
      if (text.trim()) this.message.push(text.trim());
      return;
    }
    const lineNo = Number(m[1]);
    const message = this.message.join('; ');
    this.message = [];
    const request = this.pending[0];
    if (!request) return;
    const index = lineNo - request.firstLine;
    if (index >= 0 && index < request.commands.length) {
      request.failures.push({ command: request.commands[index], message });
    } else if (index === request.commands.length) {
      this.pending.shift();
      request.resolve(request.failures);
    }
  }

  /** The process is gone: every request still waiting fails with `reason`. */
  fail(reason: string): void {
    for (const request of this.pending.splice(0))
      request.resolve([
        ...request.failures,
        ...request.commands
          .filter((command) => !request.failures.some((f) => f.command === command))
          .map((command) => ({ command, message: reason })),
      ]);
    this.message = [];
  }

  get waiting(): number {
    return this.pending.length;
  }
}

/** The long-lived ip process; started on first use, again after it died. */
export class IpBatchProcess {
  private child: ChildProcessByStdio<Writable, null, Readable> | undefined;
  private replies: IpBatchReplies | undefined;

  /**
   * Runs `commands` in order; resolves with the failed ones (empty when all succeeded). A command's
   * failure does not stop the ones after it (ip's `-force`).
   */
  async run(commands: readonly string[]): Promise<IpFailure[]> {
    if (commands.length === 0) return [];
    const { child, replies } = this.started();
    const failures = new Promise<IpFailure[]>((resolve) => child.stdin.write(replies.add(commands, resolve)));
    setRef(child, true);
    try {
      return await failures;
    } finally {
      // Idle, the process does not keep this one alive (as with any finished child process).
      if (this.child === child && replies.waiting === 0) setRef(child, false);
    }
  }

  /** Ends the process (its stdin closes; ip exits after the commands already written). */
  close(): void {
    this.child?.stdin.end();
    this.child = undefined;
    this.replies = undefined;
  }

  private started(): { child: ChildProcessByStdio<Writable, null, Readable>; replies: IpBatchReplies } {
    if (this.child && this.replies) return { child: this.child, replies: this.replies };
    const child = spawn('ip', ['-force', '-batch', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    const replies = new IpBatchReplies();
    let partial = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      partial += chunk;
      let newline: number;
      while ((newline = partial.indexOf('\n')) >= 0) {
        replies.line(partial.slice(0, newline));
        partial = partial.slice(newline + 1);
      }
    });
    const gone = (reason: string) => {
      if (this.child === child) {
        this.child = undefined;
        this.replies = undefined;
      }
      replies.fail(reason);
    };
    child.on('error', (err) => gone(`ip -batch: ${err.message}`));
    child.on('exit', (code, signal) => gone(`ip -batch exited (${code ?? signal})`));
    // A write after ip exited fails with EPIPE; the exit handler has failed the requests already.
    child.stdin.on('error', () => undefined);
    setRef(child, false);
    this.child = child;
    this.replies = replies;
    return { child, replies };
  }
}

/** Whether the process and its pipes keep the event loop alive. */
function setRef(child: ChildProcessByStdio<Writable, null, Readable>, ref: boolean): void {
  for (const handle of [child, child.stdin, child.stderr] as unknown as Array<{
    ref?: () => void;
    unref?: () => void;
  }>) {
    if (ref) handle.ref?.();
    else handle.unref?.();
  }
}
