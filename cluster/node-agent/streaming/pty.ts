import { execFile } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { shellJoin } from '../../../host';
import { descendants } from './process-tree';

/**
 * TTY exec without a native module: util-linux `script` (Essential in Debian, so present on every node)
 * runs the command on a pseudo-terminal and relays it over plain pipes. node-pty would need a compiler
 * and Node headers on every machine that runs the agent.
 */

export interface TerminalSize {
  cols: number;
  rows: number;
}

/**
 * The argv that runs `command` on a fresh pty. `-e` returns the command's exit status, `-f` flushes
 * every write (interactive output), `-E always` keeps the pty's echo on although script's own stdin is
 * a pipe (the client's terminal is in raw mode and relies on the remote echo).
 */
export function ptyArgv(command: readonly string[]): string[] {
  return ['script', '-q', '-f', '-e', '-E', 'always', '-c', shellJoin(command), '/dev/null'];
}

/**
 * Resize messages on the `resize` stream are concatenated JSON objects `{"Width":w,"Height":h}` (Go's
 * json.Encoder, one per line). Returns the sizes found in `buffer` and the unparsed rest.
 */
export function parseResizeMessages(buffer: string): { sizes: TerminalSize[]; rest: string } {
  const sizes: TerminalSize[] = [];
  let rest = buffer;
  for (let end = rest.indexOf('}'); end >= 0; end = rest.indexOf('}')) {
    const text = rest.slice(0, end + 1).trim();
    rest = rest.slice(end + 1);
    try {
      const msg: unknown = JSON.parse(text);
      if (typeof msg !== 'object' || msg === null) continue;
      const { Width, Height } = msg as { Width?: unknown; Height?: unknown };
      if (Number.isInteger(Width) && Number.isInteger(Height) && Number(Width) > 0 && Number(Height) > 0)
        sizes.push({ cols: Number(Width), rows: Number(Height) });
    } catch {
      // A malformed message is skipped, as the kubelet does.
    }
  }
  return { sizes, rest };
}

/**
 * The terminal that `script` gave its child: the stdin of the first process below `pid` (script itself,
 * or nsenter above it when the command runs in a container's PID namespace) that reads a pty.
 */
export function findChildPty(pid: number): string | undefined {
  for (const child of descendants(pid)) {
    try {
      const tty = readlinkSync(`/proc/${child}/fd/0`);
      if (tty.startsWith('/dev/pts/')) return tty;
    } catch {
      // The child may just have exited.
    }
  }
  return undefined;
}

/**
 * Applies a size to the pty. Setting it on the slave (TIOCSWINSZ through stty) makes the kernel send
 * SIGWINCH to the foreground process group, exactly as a terminal emulator's resize does.
 */
export function setPtySize(tty: string, size: TerminalSize): Promise<void> {
  return new Promise((resolve) =>
    execFile('stty', ['-F', tty, 'cols', String(size.cols), 'rows', String(size.rows)], () => resolve()),
  );
}

/**
 * Keeps the pty of one `script` process at the latest requested size. Sizes may arrive before the
 * child has its terminal; the newest one is applied as soon as the pty can be found.
 */
export class PtyResizer {
  private tty: string | undefined;
  private pending: TerminalSize | undefined;
  private timer: NodeJS.Timeout | undefined;
  private tries = 0;
  private busy = false;

  constructor(private readonly rootPid: number) {}

  resize(size: TerminalSize): void {
    this.pending = size;
    this.flush();
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.pending = undefined;
  }

  private flush(): void {
    if (!this.pending || this.timer || this.busy) return;
    this.tty ??= findChildPty(this.rootPid);
    if (!this.tty) {
      // script forks its child right away; give up after ~5 s (the command is then long gone).
      if (this.tries++ < 100) this.timer = setTimeout(() => ((this.timer = undefined), this.flush()), 50);
      return;
    }
    const size = this.pending;
    this.pending = undefined;
    this.busy = true;
    void setPtySize(this.tty, size).then(() => {
      this.busy = false;
      this.flush();
    });
  }
}
