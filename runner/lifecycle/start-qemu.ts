/**
 * The start-QEMU stage: spawn QEMU from the plan's argv, move it into its CPU cgroup, connect the
 * runner's one QMP connection and forward the guest's log channel. QEMU gets its own process group so
 * a SIGTERM/Ctrl-C sent to the runner's group (the local cluster's node agent signals groups; terminals
 * signal the foreground group) reaches only the runner, which powers the guest off cleanly.
 */
import { rm } from 'node:fs/promises';
import { sleep } from '../../host';
import type { RunnerConfig } from '../config/runner-config';
import type { QemuCpuCgroup } from '../pod-resources/cpu-cgroup';
import { spawnQemu, type QemuProcess } from '../qemu/qemu-process';
import { QmpClient } from '../qmp';
import { GuestLogForwarder } from './guest-log-forwarder';
import type { Log, StageContext } from './lifecycle';
import type { RunnerPlan } from './runner-plan';

export interface QemuOutput {
  /** Guest console bytes (QEMU stdout). */
  console: (chunk: Buffer) => void;
  /** QEMU's own diagnostics (stderr). */
  qemuStderr: (chunk: Buffer) => void;
}

export interface StartedQemu {
  readonly process: QemuProcess;
  readonly qmp: QmpClient;
  /** The cgroup QEMU is in (undefined: it runs without a CPU limit). */
  readonly cgroup?: QemuCpuCgroup;
  /** The last 2000 characters of QEMU's stderr (exit diagnostics). */
  stderrTail(): string;
  /** Why QEMU stopped, from its SHUTDOWN event (`guest-shutdown`, `guest-reset`, `host-qmp-quit`, ...). */
  shutdownReason: string | undefined;
}

export async function startQemu(
  c: RunnerConfig,
  plan: RunnerPlan,
  cgroup: QemuCpuCgroup | undefined,
  io: QemuOutput & { log: Log },
  ctx: StageContext,
): Promise<StartedQemu> {
  const { log } = io;
  for (const socket of [c.paths.qmpSocket, c.paths.qmpManualSocket, c.paths.logSocket])
    await rm(socket, { force: true });
  log('starting QEMU', { binary: plan.qemu.binary, args: plan.qemu.args });
  const [command, ...args] = plan.qemu.argv;
  const qemu = spawnQemu(command, args, { newProcessGroup: true });
  ctx.onUndo('kill QEMU', () => qemu.kill());
  log('QEMU started', { qemuPid: qemu.pid });

  qemu.child.stdout?.removeAllListeners('data');
  qemu.child.stderr?.removeAllListeners('data');
  qemu.child.stdout?.setEncoding('binary' as BufferEncoding);
  let stderrTail = '';
  qemu.child.stdout?.on('data', (chunk: string) => io.console(Buffer.from(chunk, 'binary')));
  qemu.child.stderr?.on('data', (chunk: string) => {
    stderrTail = (stderrTail + chunk).slice(-2000);
    io.qemuStderr(Buffer.from(chunk));
  });

  // CPU time limited to cpus.use: QEMU joins its cgroup right after the spawn; the threads it starts
  // later (vCPUs) stay in it.
  let limitedBy: QemuCpuCgroup | undefined;
  if (cgroup) {
    try {
      await cgroup.addProcess(qemu.pid);
      limitedBy = cgroup;
      log('QEMU CPU cgroup', { dir: cgroup.dir, milliCpu: plan.cgroup?.initialMilliCpu });
    } catch (e) {
      log(`warning: QEMU runs without a CPU limit: ${(e as Error).message}`);
      await cgroup.remove();
    }
  }

  let qmp: QmpClient;
  try {
    qmp = await Promise.race([
      QmpClient.connect({
        socketPath: c.paths.qmpSocket,
        connectTimeoutMs: 15_000,
        log: (m) => log(m),
        clock: ctx.clock,
      }),
      qemu.exited.then((code) => {
        throw new Error(`QEMU exited (${code}) before QMP was up: ${stderrTail.trim()}`);
      }),
    ]);
  } catch (e) {
    // A QEMU that rejects its command line closes the socket before exiting: prefer its own words.
    const code = await Promise.race([qemu.exited, sleep(1000, ctx.clock).then(() => undefined)]);
    throw code === undefined ? e : new Error(`QEMU exited (${String(code)}): ${stderrTail.trim()}`);
  }
  ctx.onUndo('close QMP', () => qmp.close());

  const started: StartedQemu = {
    process: qemu,
    qmp,
    cgroup: limitedBy,
    stderrTail: () => stderrTail,
    shutdownReason: undefined,
  };
  qmp.onEvent('SHUTDOWN', (e) => {
    started.shutdownReason = (e.data as { reason?: string } | undefined)?.reason;
  });
  const guestLogs = new GuestLogForwarder(c.paths.logSocket, (text) => process.stdout.write(text), ctx.clock);
  guestLogs.start();
  ctx.onUndo('stop the guest log forwarder', () => guestLogs.stop());
  return started;
}
