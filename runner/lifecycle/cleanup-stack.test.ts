import { CleanupStack, type CleanupFailure } from './cleanup-stack';

describe('CleanupStack', () => {
  it('undoes newest first, each once, and awaits every undo before the next', async () => {
    const events: string[] = [];
    const stack = new CleanupStack(() => undefined);
    stack.push('a', () => events.push('a'));
    stack.push('b', async () => {
      await new Promise((r) => setImmediate(r));
      events.push('b');
    });
    stack.push('c', () => events.push('c'));
    await Promise.all([stack.unwind(), stack.unwind()]); // SIGTERM and QEMU exit at the same time
    await stack.unwind();
    expect(events).toEqual(['c', 'b', 'a']);
    expect(stack.pending).toEqual([]);
  });

  it('reports a failing undo and still runs the rest', async () => {
    const reported: CleanupFailure[] = [];
    const events: string[] = [];
    const stack = new CleanupStack((f) => reported.push(f));
    stack.push('remove cgroup', () => events.push('cgroup'));
    stack.push('stop dnsmasq', () => Promise.reject(new Error('dnsmasq would not die')));
    stack.push('close QMP', () => {
      throw new Error('socket gone');
    });
    const failures = await stack.unwind();
    expect(events).toEqual(['cgroup']);
    expect(failures.map((f) => `${f.step}: ${f.error.message}`)).toEqual([
      'close QMP: socket gone',
      'stop dnsmasq: dnsmasq would not die',
    ]);
    expect(reported).toEqual(failures);
  });

  it('runs an undo registered during or after the unwind at once (a stage that finished late)', async () => {
    const events: string[] = [];
    const stack = new CleanupStack(() => undefined);
    stack.push('first', async () => {
      stack.push('during', () => events.push('during'));
      events.push('first');
    });
    await stack.unwind();
    expect(events).toEqual(['first', 'during']);
    stack.push('after', () => events.push('after'));
    await stack.unwind();
    expect(events).toEqual(['first', 'during', 'after']);
    expect(stack.unwinding).toBe(true);
  });
});
