/**
 * The runner's life cycle (upstream §4.2, with the fixes noted) as named stages over one cleanup
 * stack (lifecycle.ts):
 *
 *   init script → directories → tun device → inspect host → plan (pure) → network → disks → CPU cgroup
 *   → start QEMU (+ QMP, guest logs) → start VM → serve API → access files → run until exit
 *
 * Every stage registers the undo of what it creates. A failing stage, an abort (SIGTERM while
 * starting, a crash) or QEMU's exit unwinds them once, newest first, failures reported. A new stage
 * is one function taking what it needs and a StageContext, and one line below.
 */
import type { Clock } from '../../host';
import type { RunnerConfig } from '../config/runner-config';
import { buildDisks } from '../pod-resources/disk-builder';
import type { QemuProcess } from '../qemu/qemu-process';
import type { QemuVm } from '../vm-control/qemu-vm';
import { writeAccessFiles } from './access-files';
import { inspectHost } from './inspect-host';
import { Lifecycle, type Log } from './lifecycle';
import {
  createCpuCgroup,
  prepareDirs,
  prepareNetwork,
  prepareTunDevice,
  runInitScript,
} from './prepare-host';
import { runUntilExit } from './run-until-exit';
import { planRunner } from './runner-plan';
import { serveApi } from './serve-api';
import { startQemu, type QemuOutput } from './start-qemu';
import { startVm } from './start-vm';

export interface RunnerIo extends QemuOutput {
  log: Log;
}

export interface StartRunnerOptions {
  /** Aborting it stops the start (or, once running, the VM) at once and unwinds everything. */
  readonly signal?: AbortSignal;
  /** Time for every wait, timeout and timestamp of the runner. Default: real time. */
  readonly clock?: Clock;
}

export interface RunningVm {
  vm: QemuVm;
  qemu: QemuProcess;
  apiUrl: string;
  /** Resolves with the runner's exit code once QEMU is gone and everything is cleaned up. */
  exited: Promise<number>;
  /** Graceful stop: ACPI power button, then kill after timeoutMs. */
  shutdown(timeoutMs?: number): Promise<number>;
  /** Immediate stop (a crash): kills QEMU and unwinds; resolves with the exit code. */
  abort(reason: Error): Promise<number>;
}

export async function startRunner(
  c: RunnerConfig,
  io: RunnerIo,
  o: StartRunnerOptions = {},
): Promise<RunningVm> {
  const { log } = io;
  const life = new Lifecycle({ log, clock: o.clock });
  const onAbort = () =>
    void life.abort(o.signal?.reason instanceof Error ? o.signal.reason : new Error('aborted'));
  if (o.signal?.aborted) onAbort();
  o.signal?.addEventListener('abort', onAbort, { once: true });

  return life.start(async () => {
    const { initScript } = c.spec;
    if (initScript) await life.stage('init script', (ctx) => runInitScript(initScript, ctx));
    await life.stage('directories', (ctx) => prepareDirs(c.paths, ctx));
    const tun = await life.stage('tun device', () => prepareTunDevice(c, log));
    const host = await life.stage('inspect host', (ctx) => inspectHost(c, log, ctx.clock, tun));
    const plan = await life.stage('plan', () => planRunner(c, host));
    for (const w of plan.degraded) log(`warning: ${w}`);
    await life.stage('network', (ctx) => prepareNetwork(c, plan, log, ctx));
    await life.stage('disks', async ({ clock }) => {
      const t0 = clock.now();
      await buildDisks(plan.disks);
      log('disks ready', { ms: clock.now() - t0, drives: plan.disks.drives.map((d) => d.id) });
    });
    const cgroup = await life.stage('CPU cgroup', (ctx) => createCpuCgroup(c, plan, log, ctx));
    const qemu = await life.stage('start QEMU', (ctx) => startQemu(c, plan, cgroup, io, ctx));
    const { vm, consolePty } = await life.stage('start VM', (ctx) =>
      startVm(c, plan, qemu, host.accel.accel, host.arch, log, ctx),
    );
    await life.stage('serve API', (ctx) => serveApi(c, vm, log, ctx));
    log('runner API listening', { url: plan.apiUrl });
    await life.stage('access files', () =>
      writeAccessFiles(
        c.paths,
        {
          pid: process.pid,
          qemuPid: qemu.process.pid,
          podName: c.podName,
          apiUrl: plan.apiUrl,
          qmpSocket: c.paths.qmpSocket,
          qmpManualSocket: c.paths.qmpManualSocket,
          consolePty,
          sshConfig: c.paths.sshConfig,
          networkMode: plan.network.mode,
          accel: host.accel.accel,
        },
        plan.guest.ssh,
        plan.network.mode === 'tap',
      ),
    );
    const { exited, shutdown } = runUntilExit(life, qemu, log);
    const abort = async (reason: Error) => {
      await life.abort(reason);
      return exited;
    };
    return { vm, qemu: qemu.process, apiUrl: plan.apiUrl, exited, shutdown, abort };
  });
}
