/**
 * The last stage: run until QEMU exits, then unwind everything and turn how QEMU ended into the exit
 * code — 0 after a clean guest poweroff (or `quit` of a migrated-away source), 1 when QEMU failed,
 * the guest reset or panicked (upstream #964). `shutdown` is the graceful way there (SIGTERM).
 */
import type { TimerHandle } from '../../host';
import type { Lifecycle, Log } from './lifecycle';
import type { StartedQemu } from './start-qemu';

export interface QemuSupervision {
  /** Resolves with the runner's exit code once QEMU is gone and everything is cleaned up. */
  readonly exited: Promise<number>;
  /** Graceful stop: ACPI power button (or `quit` when there is no guest of our own), kill after timeoutMs. */
  shutdown(timeoutMs?: number): Promise<number>;
}

/** How often the ACPI power button is pressed again while the guest has not powered off. */
export const POWER_BUTTON_REPEAT_MS = 2_000;

/**
 * QEMU states in which this runner has no running guest of its own to power off. `finish-migrate`:
 * the vCPUs are stopped for the switch-over (QEMU 7.2 reports an outgoing migration `completed` while
 * still there, and the operator deletes such a source): the power button would wait out the timeout.
 */
const NO_GUEST_STATES = ['postmigrate', 'finish-migrate', 'inmigrate', 'paused', 'prelaunch'];

export function runUntilExit(life: Lifecycle, qemu: StartedQemu, log: Log): QemuSupervision {
  const exited = qemu.process.exited.then(async (code) => {
    await life.cleanup.unwind();
    const reason = qemu.shutdownReason;
    const clean = code === 0 && reason !== 'guest-reset' && reason !== 'guest-panic';
    log('QEMU exited', { code, shutdownReason: reason, clean });
    const stderr = qemu.stderrTail().trim();
    if (!clean && stderr) log('QEMU stderr', { tail: stderr });
    return clean ? 0 : 1;
  });

  let shuttingDown: Promise<number> | undefined;
  const shutdown = (timeoutMs = 30_000): Promise<number> => {
    shuttingDown ??= (async () => {
      let status = 'unknown';
      try {
        status = (await qemu.qmp.execute<{ status: string }>('query-status', undefined, { timeoutMs: 2000 }))
          .status;
      } catch {
        // QMP gone: QEMU is exiting already
      }
      const command = NO_GUEST_STATES.includes(status) ? 'quit' : 'system_powerdown';
      log('shutting down', { command, qemuStatus: status });
      await qemu.qmp.execute(command, undefined, { timeoutMs: 2000 }).catch(() => undefined);
      if (command === 'quit') qemu.shutdownReason = 'host-qmp-quit';
      // FIX: a press the guest cannot see yet (its agent not yet watching the button, early in boot)
      // is lost, so press again until QEMU exits; the guest powers off once however often it is pressed.
      let again: TimerHandle | undefined;
      let gone = false;
      const pressAgain = (): void => {
        if (gone) return;
        again = life.clock.setTimer(POWER_BUTTON_REPEAT_MS, () => {
          void qemu.qmp
            .execute('system_powerdown', undefined, { timeoutMs: 2000 })
            .catch(() => undefined)
            .then(pressAgain);
        });
      };
      if (command === 'system_powerdown') pressAgain();
      const timer = life.clock.setTimer(timeoutMs, () => {
        log('guest did not power off in time: killing QEMU', { timeoutMs });
        void qemu.process.kill();
      });
      const code = await exited;
      gone = true;
      timer.cancel();
      again?.cancel();
      return code;
    })();
    return shuttingDown;
  };
  return { exited, shutdown };
}
