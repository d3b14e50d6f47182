/**
 * Messages between a {@link ProcessLauncher} and its helper process (launcher-helper.ts), over the
 * helper's IPC channel. Types only: the helper imports them with `import type`, which Node's type
 * stripping erases.
 */

export type LauncherRequest =
  /** Start a long-running process, leader of its own process group, output appended to `logFile`. */
  | {
      readonly op: 'spawn';
      readonly id: number;
      readonly command: string;
      readonly args: readonly string[];
      readonly logFile: string;
      readonly env?: Readonly<Record<string, string | undefined>>;
      readonly cwd?: string;
    }
  /** Run a command to completion, `input` on its stdin, collecting stdout and stderr. */
  | {
      readonly op: 'run';
      readonly id: number;
      readonly command: string;
      readonly args: readonly string[];
      readonly input?: string;
      readonly env?: Readonly<Record<string, string | undefined>>;
    };

export type LauncherReply =
  | { readonly id: number; readonly kind: 'started'; readonly pid: number }
  | {
      readonly id: number;
      readonly kind: 'exited';
      readonly code: number | null;
      readonly signal: NodeJS.Signals | null;
    }
  /** The command could not be started (e.g. ENOENT). */
  | { readonly id: number; readonly kind: 'failed'; readonly message: string }
  | {
      readonly id: number;
      readonly kind: 'ran';
      readonly code: number | null;
      readonly signal: NodeJS.Signals | null;
      readonly stdout: string;
      readonly stderr: string;
    };
