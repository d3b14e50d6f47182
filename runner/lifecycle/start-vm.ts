/**
 * The start-VM stage: the VM behind the API (QemuVm over the QMP connection and the guest agent),
 * its vCPUs plugged (and, on a migration target, QEMU listening for the stream), file sync, the
 * serial console linked at `<state>/console`, and the readiness probe that finishes the guest's
 * start (initial CPUs, or adopting a migrated guest) once the agent answers.
 */
import { symlink, rm } from 'node:fs/promises';
import { MIGRATION_PORT, milliCpuRoundedUp, parseMilliCpu } from '../../crds';
import type { GuestArch } from '../../guest';
import type { RunnerConfig } from '../config/runner-config';
import { FileSync } from '../vm-control/file-sync';
import { GuestAgent } from '../vm-control/guest-agent';
import { QemuVm } from '../vm-control/qemu-vm';
import type { Log, StageContext } from './lifecycle';
import type { RunnerPlan } from './runner-plan';
import type { StartedQemu } from './start-qemu';

export interface StartedVm {
  readonly vm: QemuVm;
  /** The guest's serial console (ttyS0) pty. */
  readonly consolePty?: string;
}

export async function startVm(
  c: RunnerConfig,
  plan: RunnerPlan,
  qemu: StartedQemu,
  accel: 'kvm' | 'tcg',
  arch: GuestArch,
  log: Log,
  ctx: StageContext,
): Promise<StartedVm> {
  const { qmp, cgroup } = qemu;
  const chardevs = await qmp.execute<Array<{ label: string; filename: string }>>('query-chardev');
  const pty = chardevs.find((d) => d.label === 'serial0')?.filename.replace(/^pty:/, '');
  if (pty) {
    await rm(c.paths.consoleLink, { force: true });
    await symlink(pty, c.paths.consoleLink).catch(() => undefined);
    log(`guest serial console on ${pty} (screen ${pty})`, { pty });
  }

  const agent = new GuestAgent(plan.guest.agentUrl, plan.guest.agentToken);
  const vm = new QemuVm({
    qmp,
    agent,
    shape: c.shape,
    accel,
    arch,
    networkMode: plan.network.mode,
    ...(plan.network.mode === 'tap' ? { netBacking: plan.network.backing } : {}),
    degraded: plan.degraded,
    role: c.receiveMigration ? 'target' : 'none',
    consolePty: pty,
    swapDiskBytes: swapDiskBytes(plan),
    migrationTuning: c.migrationTuning,
    log,
    onCpuApplied: async (milli) => cgroup?.setCpu(milli),
    clock: ctx.clock,
    ...(c.migrationTls ? { migrationTls: c.migrationTls } : {}),
  });
  ctx.onUndo('stop the VM probes', () => vm.stop());

  await vm.cpu.ensurePlugged(c.shape.vcpus.use);
  if (c.receiveMigration) {
    // Same devices as the source: its vCPU count comes from -vmstatus (cpus).
    log('vCPUs plugged for the incoming migration', { plugged: await vm.cpu.pluggedCount() });
    await vm.migrator.listen(c.podIp === '0.0.0.0' ? '0.0.0.0' : c.podIp);
    log('waiting for the incoming migration', { port: MIGRATION_PORT, tls: vm.migrator.encrypted });
  }

  const sync = new FileSync(agent, plan.disks.watched, log, { clock: ctx.clock });
  ctx.onUndo('stop file sync', () => sync.stop());
  vm.watchGuest(async () => {
    if (c.receiveMigration) {
      // The guest (and its online CPUs) came from the source; keep the fractional value when it agrees.
      const online = await agent.getCpuMilli();
      const fromStatus = c.status?.cpus !== undefined ? parseMilliCpu(c.status.cpus) : online;
      vm.cpu.adopt(milliCpuRoundedUp(fromStatus) * 1000 === online ? fromStatus : online);
      await cgroup?.setCpu(vm.cpu.currentMilli);
      await vm.memory.adopt();
      vm.setRole('none'); // the VM is ours now: an ordinary runner from here on
    } else {
      await vm.cpu.set(c.shape.cpus.useMilli);
    }
    sync.start();
  });
  return { vm, consolePty: pty };
}

function swapDiskBytes(plan: RunnerPlan): number | undefined {
  const swap = plan.disks.images.find((i) => i.kind === 'swap');
  return swap ? Number(swap.sizeBytes) : undefined;
}
