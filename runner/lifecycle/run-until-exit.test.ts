import { FakeClock } from '../../host';
import type { QmpClient } from '../qmp';
import type { QemuProcess } from '../qemu/qemu-process';
import { Lifecycle } from './lifecycle';
import { POWER_BUTTON_REPEAT_MS, runUntilExit } from './run-until-exit';
import type { StartedQemu } from './start-qemu';

/** A QEMU whose QMP records commands and which exits when the test says so. */
function fakeQemu(status = 'running') {
  const commands: string[] = [];
  let exit!: (code: number) => void;
  const exited = new Promise<number>((r) => (exit = r));
  const qemu = {
    process: { exited, kill: async () => exit(137) } as unknown as QemuProcess,
    qmp: {
      execute: async (cmd: string) => {
        commands.push(cmd);
        return cmd === 'query-status' ? { status } : {};
      },
    } as unknown as QmpClient,
    stderrTail: () => '',
    shutdownReason: undefined,
  } satisfies StartedQemu;
  return { qemu, commands, exit };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('runUntilExit shutdown', () => {
  it('presses the power button again until the guest powers off, then stops pressing', async () => {
    const clock = new FakeClock();
    const { qemu, commands, exit } = fakeQemu();
    const sup = runUntilExit(new Lifecycle({ log: () => undefined, clock }), qemu, () => undefined);
    const done = sup.shutdown(30_000);
    await flush();
    expect(commands).toEqual(['query-status', 'system_powerdown']);
    for (let i = 0; i < 3; i++) {
      clock.advance(POWER_BUTTON_REPEAT_MS);
      await flush();
    }
    expect(commands.filter((c) => c === 'system_powerdown')).toHaveLength(4);
    qemu.shutdownReason = 'guest-shutdown' as never;
    exit(0);
    expect(await done).toBe(0);
    clock.advance(10 * POWER_BUTTON_REPEAT_MS);
    await flush();
    expect(commands.filter((c) => c === 'system_powerdown')).toHaveLength(4);
    expect(clock.pendingTimers).toBe(0);
  });

  it.each(['postmigrate', 'finish-migrate'])(
    'quits a QEMU in %s (no guest of its own) once, without pressing',
    async (status) => {
      const clock = new FakeClock();
      const { qemu, commands, exit } = fakeQemu(status);
      const sup = runUntilExit(new Lifecycle({ log: () => undefined, clock }), qemu, () => undefined);
      const done = sup.shutdown(30_000);
      await flush();
      clock.advance(5 * POWER_BUTTON_REPEAT_MS);
      await flush();
      expect(commands).toEqual(['query-status', 'quit']);
      exit(0);
      expect(await done).toBe(0);
    },
  );
});
