import { ConsoleWatcher } from './console-watcher';

describe('ConsoleWatcher', () => {
  it('matches output seen before or after the wait starts, across chunks', async () => {
    const w = new ConsoleWatcher();
    w.push('booting...\nneonvm-gu');
    const later = w.waitFor(/neonvm-guest: (\w+)/, 1000);
    w.push('est: ready\n');
    expect((await later)[1]).toBe('ready');
    expect((await w.waitFor(/booting/, 10))[0]).toBe('booting');
    expect(w.text()).toBe('booting...\nneonvm-guest: ready\n');
  });

  it('fails with the last output on timeout or when the process ends', async () => {
    const w = new ConsoleWatcher();
    w.push('kernel panic');
    await expect(w.waitFor(/ready/, 20)).rejects.toThrow(/within 20 ms; last output:\nkernel panic/);
    const pending = w.waitFor(/ready/, 5000);
    w.end('QEMU exited (1)');
    await expect(pending).rejects.toThrow(/QEMU exited \(1\) before the console matched/);
    await expect(w.waitFor(/ready/, 5000)).rejects.toThrow(/QEMU exited/);
  });
});
