import { StatusWriter } from './status-writer';

describe('StatusWriter', () => {
  it('coalesces a burst of changes into one write', async () => {
    const write = jest.fn(async () => undefined);
    const writer = new StatusWriter(write, () => undefined, 5);
    for (let i = 0; i < 10; i++) writer.markDirty();
    await writer.flush();
    expect(write).toHaveBeenCalledTimes(1);
  });

  it('writes again for a change made during a write, never concurrently', async () => {
    let active = 0;
    let maxActive = 0;
    let calls = 0;
    const writer: StatusWriter = new StatusWriter(
      async () => {
        calls++;
        active++;
        maxActive = Math.max(maxActive, active);
        if (calls === 1) writer.markDirty();
        await new Promise((r) => setTimeout(r, 5));
        active--;
      },
      () => undefined,
      1,
    );
    writer.markDirty();
    await writer.flush();
    expect(calls).toBe(2);
    expect(maxActive).toBe(1);
  });
});
