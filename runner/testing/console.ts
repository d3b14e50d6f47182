/** Talks to the guest's serial console pty like `screen` would: type a command, wait for output. */
import { constants, openSync } from 'node:fs';
import { ReadStream } from 'node:tty';

export async function consoleRoundTrip(pty: string, timeoutMs = 20_000): Promise<string> {
  const fd = openSync(pty, constants.O_RDWR | constants.O_NOCTTY);
  const stream = new ReadStream(fd);
  const a = 1000 + Math.floor(Math.random() * 1000);
  const expected = `ANSWER-${a * 2}`;
  let seen = '';
  try {
    return await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`no "${expected}" on ${pty} within ${timeoutMs} ms; saw: ${seen.slice(-500)}`)),
        timeoutMs,
      );
      stream.on('data', (b: Buffer) => {
        seen += b.toString('latin1');
        if (seen.includes(expected)) {
          clearTimeout(timer);
          resolve(expected);
        }
      });
      // The shell computes the value, so an echo of our own input cannot satisfy the check.
      stream.write(`\necho ANSWER-$((${a} * 2))\n`);
    });
  } finally {
    stream.destroy();
  }
}
