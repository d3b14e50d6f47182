/**
 * The runner against raw QEMU, measured in one run on this machine (KVM if the probe says it works,
 * else TCG): boot to guest-ready, CPU plug/unplug and memory grow/shrink until the guest has the
 * change (live migration has its own module: runner-migration.ts). Raw = the same QEMU command
 * line (same planners, kernel, initramfs, disks) driven directly over QMP, readiness = the guest
 * agent answers.
 */
import { accelVerdict } from '../runner/lifecycle';
import { RunnerHarness, type TestRunner } from '../runner/testing/runner-harness';
import { bootGuestVm, waitGuestReady, type GuestVm } from '../runner/testing/guest-vm';
import { cpuDeviceId } from '../runner/vm-control';
import { pollUntil } from '../host';
import type { MemorySizeSummary } from '../runner/qmp';
import { median } from './percentile';
import type { BenchRow } from './table';
import { builtinGuest } from '../crds/testing';

const SLOT = 256 * 1024 * 1024;
const ROUNDS = 3;
const CPU_DRIVER = 'max-x86_64-cpu';

const spec = {
  guest: builtinGuest({ min: 1, max: 4, use: 1 }, { min: 1, max: 2, use: 1 }),
  enableSSH: false,
};

async function timed<T>(fn: () => Promise<T>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

function row(
  name: string,
  value: number,
  baseline: number,
  baselineName: string,
  target: string,
  unit = 'ms',
): BenchRow {
  return {
    name,
    value,
    unit,
    baseline,
    baselineName,
    ratio: baseline > 0 ? value / baseline : undefined,
    target,
  };
}

/** Raw QMP CPU change on core `core` until the guest agent reports the new online count. */
async function rawCpu(vm: GuestVm, plug: boolean, core: number): Promise<number> {
  return timed(async () => {
    if (plug) {
      await vm.qmp.execute('device_add', {
        id: cpuDeviceId(core),
        driver: CPU_DRIVER,
        'socket-id': 0,
        'core-id': core,
        'thread-id': 0,
      });
    } else {
      await vm.qmp.execute('device_del', { id: cpuDeviceId(core) });
    }
    const want = plug ? 2000 : 1000;
    await pollUntil(async () => ((await vm.agent.getCpuMilli()) === want ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 10,
      description: 'raw CPU change',
    });
  });
}

async function rawMemory(vm: GuestVm, pluggedBytes: number): Promise<number> {
  return timed(async () => {
    await vm.qmp.execute('qom-set', { path: 'vm0', property: 'requested-size', value: pluggedBytes });
    await pollUntil(
      async () => {
        const s = await vm.qmp.execute<MemorySizeSummary>('query-memory-size-summary');
        return (s['plugged-memory'] ?? 0) === pluggedBytes ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 20, description: 'raw memory change' },
    );
  });
}

export default async function benchRunner(): Promise<BenchRow[]> {
  const h = new RunnerHarness();
  const raws: GuestVm[] = [];
  try {
    await h.init();
    const accel = (await accelVerdict(h.guest.kernel)).accel;
    const rows: BenchRow[] = [];

    // --- boot: runner and raw QEMU alternating, one at a time (2 cores: no overlap), median of
    // ROUNDS; the last of each stays up for the scaling rows.
    const bootRunnerMs: number[] = [];
    const bootRawMs: number[] = [];
    let a: TestRunner | undefined;
    let rawA: GuestVm | undefined;
    for (let round = 0; round < ROUNDS; round++) {
      const last = round === ROUNDS - 1;
      const r = h.start({ name: `bench-a${round}xxx`, ip: '127.0.0.12', spec });
      bootRunnerMs.push(await h.waitReady(r));
      if (last) a = r;
      else {
        r.child.kill('SIGKILL'); // QEMU follows (parent-death signal)
        await r.exited;
      }
      const raw = await bootGuestVm({
        dir: h.tempDir('neonvm-raw-'),
        guest: h.guest,
        spec,
        name: `raw-a${round}`,
        accel,
      });
      raws.push(raw);
      bootRawMs.push(await waitGuestReady(raw));
      if (last) rawA = raw;
      else await raw.stop();
    }
    if (!a || !rawA) throw new Error('no VMs booted');
    const bootRunner = median(bootRunnerMs);
    const bootRaw = median(bootRawMs);
    rows.push(
      row(
        `boot to guest ready (${accel}, median of ${ROUNDS})`,
        bootRunner,
        bootRaw,
        'raw: same disk prep + QEMU, no runner',
        '≤ 1.15×',
      ),
    );

    // --- CPU and memory scaling until the guest has the change: median of ROUNDS, runner and raw
    // alternating. Raw CPU gets one plug/unplug cycle only: QEMU 7.2 under TCG dies on a device_add
    // after a device_del; the runner re-onlines the vCPU it keeps plugged, so it can repeat.
    const samples: Record<string, number[]> = {
      plug: [],
      plugRaw: [],
      unplug: [],
      unplugRaw: [],
      grow: [],
      growRaw: [],
      shrink: [],
      shrinkRaw: [],
    };
    for (let round = 0; round < ROUNDS; round++) {
      samples.plug.push(await timed(() => a.client.setCpu(2000)));
      if (round === 0) samples.plugRaw.push(await rawCpu(rawA, true, 1));
      samples.unplug.push(await timed(() => a.client.setCpu(1000)));
      if (round === 0) samples.unplugRaw.push(await rawCpu(rawA, false, 1));
      samples.grow.push(await timed(() => a.client.setMemory(2)));
      samples.growRaw.push(await rawMemory(rawA, SLOT));
      samples.shrink.push(await timed(() => a.client.setMemory(1)));
      samples.shrinkRaw.push(await rawMemory(rawA, 0));
    }
    const m = (k: string) => median(samples[k]);
    const hotplug = (name: string, k: string, base: string) =>
      rows.push(
        row(
          `${name} (median of ${ROUNDS})`,
          m(k),
          m(`${k}Raw`),
          `${base} (n=${samples[`${k}Raw`].length})`,
          '≤ raw + 100 ms',
        ),
      );
    hotplug('CPU plug 1→2, guest online', 'plug', 'raw QMP device_add');
    hotplug('CPU unplug 2→1, guest online', 'unplug', 'raw QMP device_del');
    hotplug('memory grow 1→2 slots', 'grow', 'raw QMP qom-set');
    hotplug('memory shrink 2→1 slots', 'shrink', 'raw QMP qom-set');
    await rawA.stop();

    await h.stopAll();
    return rows;
  } finally {
    for (const r of raws) await r.stop().catch(() => undefined);
    await h.stopAll();
  }
}
