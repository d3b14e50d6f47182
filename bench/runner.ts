/**
 * The runner against raw QEMU, measured in one run on this machine (KVM if the probe says it works,
 * else TCG): boot to guest-ready, CPU plug/unplug and memory grow/shrink until the guest has the
 * change, live migration total time and downtime, and the migration tuning variants against the
 * untuned migration (runner-migration-tuning.ts). Raw = the same QEMU command line (same
 * planners, kernel, initramfs, disks) driven directly over QMP, readiness = the guest agent answers.
 */
import { MIGRATION_PORT } from '../crds';
import { accelVerdict } from '../runner/lifecycle';
import { RunnerHarness, type TestRunner } from '../runner/testing/runner-harness';
import { bootGuestVm, waitGuestReady, type GuestVm } from '../runner/testing/guest-vm';
import { cpuDeviceId, stopsGuestForStream } from '../runner/vm-control';
import { pollUntil } from '../host';
import type { MemorySizeSummary } from '../runner/qmp';
import type { BenchRow } from './table';
import { builtinGuest } from '../crds/testing';
import { migrationTuningRows } from './runner-migration-tuning';

const SLOT = 256 * 1024 * 1024;
const ROUNDS = 3;
const CPU_DRIVER = 'max-x86_64-cpu';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
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

interface QueryMigrate {
  status: string;
  'total-time'?: number;
  downtime?: number;
}

/**
 * A raw QEMU migration with the runner's capabilities; `stopFirst` as the runner under TCG
 * (`stopsGuestForStream`: the guest stopped for the whole stream, so its downtime is the stream's total).
 */
async function rawMigrate(
  src: GuestVm,
  dst: GuestVm,
  port: number,
  stopFirst: boolean,
): Promise<QueryMigrate> {
  const caps = {
    capabilities: ['return-path', 'auto-converge'].map((capability) => ({ capability, state: true })),
  };
  await dst.qmp.execute('migrate-set-capabilities', {
    capabilities: [{ capability: 'return-path', state: true }],
  });
  await src.qmp.execute('migrate-set-capabilities', caps);
  await src.qmp.execute('migrate-set-parameters', { 'max-bandwidth': 1024 * 1024 * 1024 });
  if (stopFirst) await src.qmp.execute('stop');
  await src.qmp.execute('migrate', { uri: `tcp:127.0.0.13:${port}`, blk: false, inc: true });
  const q = await pollUntil(
    async () => {
      const q = await src.qmp.execute<QueryMigrate>('query-migrate');
      return ['completed', 'failed', 'cancelled'].includes(q.status) ? q : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 20, description: 'raw migration' },
  );
  return stopFirst ? { ...q, downtime: q['total-time'] } : q;
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

    // --- migration of freshly booted idle guests: runner → runner, then raw → raw (same history)
    await h.stopAll();
    const src = h.start({ name: 'bench-sssss', ip: '127.0.0.12', spec });
    await h.waitReady(src);
    await new Promise((r) => setTimeout(r, 3000)); // let the guest settle, as for the raw pair
    // The target gets the source's plugged vCPUs (scale-down keeps them plugged, offline).
    const plugged = (await src.client.status()).cpus.plugged;
    const b = h.start({
      name: 'bench-bbbbb',
      ip: '127.0.0.13',
      spec,
      status: { cpus: plugged },
      receiveMigration: true,
    });
    await h.waitIncoming(b);
    await src.client.startMigration({ targetHost: '127.0.0.13' });
    const info = await h.migrationOutcome(src, { intervalMs: 20 });
    if (info.status !== 'completed') {
      const tail = (r: { output(): string }) =>
        r
          .output()
          .split('\n')
          .filter((l) => !l.includes('"args"'))
          .slice(-14)
          .join('\n');
      throw new Error(`runner migration ${info.status}\nsource:\n${tail(src)}\ntarget:\n${tail(b)}`);
    }
    await h.stopAll();

    const rawSrc = await bootGuestVm({
      dir: h.tempDir('neonvm-raw-'),
      guest: h.guest,
      spec,
      name: 'raw-src',
      accel,
    });
    raws.push(rawSrc);
    await waitGuestReady(rawSrc);
    await new Promise((r) => setTimeout(r, 3000));
    const dst = await bootGuestVm({
      dir: h.tempDir('neonvm-raw-'),
      guest: h.guest,
      spec,
      name: 'raw-dst',
      accel,
      incoming: { host: '127.0.0.13', port: MIGRATION_PORT },
      agentToken: rawSrc.agentToken, // the guest it receives checks the source's token
    });
    raws.push(dst);
    const q = await rawMigrate(
      rawSrc,
      dst,
      MIGRATION_PORT,
      stopsGuestForStream(accel, rawSrc.qmp.greeting?.QMP.version.qemu),
    );
    if (q.status !== 'completed') throw new Error(`raw migration ${q.status}`);
    rows.push(
      row(
        'migration total time (idle guest)',
        info.totalTimeMs ?? NaN,
        q['total-time'] ?? NaN,
        'raw QEMU migrate, same caps',
        'informational',
      ),
    );
    rows.push(
      row(
        'migration downtime (idle guest)',
        info.downtimeMs ?? NaN,
        q.downtime ?? NaN,
        accel === 'tcg'
          ? 'raw QEMU migrate, same caps, stop-and-copy as under TCG'
          : 'raw QEMU migrate, same caps',
        '≤ raw + 10 ms',
      ),
    );
    for (const r of raws.splice(0)) await r.stop();
    rows.push(...(await migrationTuningRows(h)));
    return rows;
  } finally {
    for (const r of raws) await r.stop().catch(() => undefined);
    await h.stopAll();
  }
}
