/**
 * Runs a command in the shell the guest's init keeps on its serial console (a QEMU pty), and returns
 * its output: for checks where the kernel console does not carry userspace output.
 */
import { constants, openSync } from 'node:fs';
import { ReadStream } from 'node:tty';
import type { QmpClient } from '../../runner/qmp';

/** The host pty of a QEMU `-chardev pty` (e.g. label `serial0`). */
export async function chardevPty(qmp: QmpClient, label: string): Promise<string> {
  const devs = await qmp.execute<Array<{ label: string; filename: string }>>('query-chardev');
  const dev = devs.find((d) => d.label === label);
  if (!dev?.filename.startsWith('pty:')) throw new Error(`no pty chardev ${label}`);
  return dev.filename.slice('pty:'.length);
}

export async function ptyShell(pty: string, command: string, timeoutMs = 30_000): Promise<string> {
  const fd = openSync(pty, constants.O_RDWR | constants.O_NOCTTY);
  const stream = new ReadStream(fd);
  const n = 1000 + Math.floor(Math.random() * 1000);
  // The shell computes the markers, so the echo of our own input cannot match them.
  const begin = `BEGIN-${n * 2}`;
  const end = `END-${n * 3}`;
  let seen = '';
  try {
    return await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no "${end}" on ${pty} within ${timeoutMs} ms; saw: ${seen.slice(-500)}`)),
        timeoutMs,
      );
      stream.on('data', (b: Buffer) => {
        seen += b.toString('latin1');
        const i = seen.lastIndexOf(begin);
        const j = seen.lastIndexOf(end);
        if (i >= 0 && j > i) {
          clearTimeout(timer);
          resolve(
            seen
              .slice(i + begin.length, j)
              .replace(/\r/g, '')
              .trim(),
          );
        }
      });
      stream.write(`\necho BEGIN-$((${n} * 2)); ${command}; echo END-$((${n} * 3))\n`);
    });
  } finally {
    stream.destroy();
  }
}
