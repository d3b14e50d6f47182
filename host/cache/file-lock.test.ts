import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withFileLock } from './file-lock';

describe('withFileLock', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'neonvm-lock-test-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('serialises holders and records the PID', async () => {
    const lock = join(dir, 'x.lock');
    const order: string[] = [];
    const task = (name: string) =>
      withFileLock(
        lock,
        async () => {
          expect(readFileSync(lock, 'utf8')).toBe(String(process.pid));
          order.push(`${name}:start`);
          await new Promise((r) => setTimeout(r, 30));
          order.push(`${name}:end`);
        },
        { pollMs: 5 },
      );
    await Promise.all([task('a'), task('b')]);
    // Either may win the race; what matters is that the holders never overlap.
    const first = order[0].split(':')[0];
    const second = first === 'a' ? 'b' : 'a';
    expect(order).toEqual([`${first}:start`, `${first}:end`, `${second}:start`, `${second}:end`]);
  });

  it('takes over a lock whose holder is dead', async () => {
    const lock = join(dir, 'stale.lock');
    writeFileSync(lock, '999999999'); // no such process
    await expect(withFileLock(lock, async () => 'ran')).resolves.toBe('ran');
  });

  it('waits for a live holder until the timeout', async () => {
    const lock = join(dir, 'held.lock');
    writeFileSync(lock, '1'); // init: alive, not us
    const waits: number[] = [];
    await expect(
      withFileLock(lock, async () => 'ran', { timeoutMs: 50, pollMs: 10, onWait: (pid) => waits.push(pid) }),
    ).rejects.toThrow(/held by pid 1/);
    expect(waits).toEqual([1]);
  });
});
