import { FakeClock } from './clock';
import { PollAborted, PollTimeoutError, pollUntil } from './poll';

describe('pollUntil', () => {
  it('returns the first value that is not undefined; attempt errors count as "not yet"', async () => {
    let n = 0;
    const value = await pollUntil(
      async () => {
        n += 1;
        if (n === 1) throw new Error('not listening yet');
        return n === 3 ? 'ready' : undefined;
      },
      { timeoutMs: 5000, intervalMs: 1, description: 'the thing' },
    );
    expect(value).toBe('ready');
    expect(n).toBe(3);
  });

  it('times out naming what it waited for and the last error', async () => {
    const wait = pollUntil(
      async () => {
        throw new Error('connection refused');
      },
      { timeoutMs: 20, intervalMs: 5, description: 'the API server' },
    );
    await expect(wait).rejects.toThrow(PollTimeoutError);
    await expect(wait).rejects.toThrow(
      /timed out after 20 ms waiting for the API server \(last error: connection refused\)/,
    );
  });

  it('stops at once on PollAborted or abortIf', async () => {
    let n = 0;
    await expect(
      pollUntil(
        async () => {
          n += 1;
          throw new PollAborted('migration failed');
        },
        { timeoutMs: 5000, intervalMs: 1, description: 'x' },
      ),
    ).rejects.toThrow('migration failed');
    expect(n).toBe(1);
    await expect(
      pollUntil(async () => undefined, {
        timeoutMs: 5000,
        description: 'x',
        abortIf: () => new Error('process exited'),
      }),
    ).rejects.toThrow('process exited');
  });

  it('waits on the given clock', async () => {
    const clock = new FakeClock();
    let n = 0;
    const wait = pollUntil(async () => (++n === 3 ? n : undefined), {
      timeoutMs: 10_000,
      intervalMs: 1000,
      description: 'x',
      clock,
    });
    for (let i = 0; i < 5 && n < 3; i++) {
      await new Promise((r) => setImmediate(r));
      clock.advance(1000);
    }
    await expect(wait).resolves.toBe(3);
  });
});
