/**
 * `npm run bench -- runner-migration`: live migration through the runner against raw QEMU, in one
 * run, for an idle guest and for a busy one (a 16 MiB working set in /dev/shm rewritten twice a
 * second, i.e. ~32 MiB/s of dirtied memory) under each migration tuning of
 * runner/plan/migration-tuning.ts. These rows chose the runner's defaults (see that file).
 *
 * Fair by construction:
 * - the same guest: both pairs boot through the runner's planners (same QEMU argv but the name and
 *   free ports; runner/testing/guest-vm.ts), freshly booted, 3 s of settling after the guest agent
 *   answers, the target started with the source's plugged vCPUs, `-incoming defer` on both targets;
 * - the same capabilities and parameters: the raw pair sets exactly what `planSourceMigration` /
 *   `planTargetMigration` give the runner for that tuning and request (the runner's own planners,
 *   not a copy of them), and `migrate` with the same `blk`/`inc`;
 * - the same measurement points: QEMU's own `total-time` and `downtime` from the source's
 *   `query-migrate` (from `migrate` to completion, which with `return-path` includes the target
 *   loading the state), read by the runner from QEMU and by the bench from raw QEMU;
 * - under TCG before QEMU 9.0 both stop the guest for the whole stream (`stopsGuestForStream`: QEMU
 *   7.2 loses guest writes during a live TCG pre-copy), and both report that stream as the downtime;
 *   the tunings that act on re-dirtied pages (downtime limit, xbzrle, auto-converge) then change
 *   nothing, so their rows only mean something under KVM (or QEMU >= 9.0);
 * - alternating order (runner first in even rounds, raw first in odd ones), medians of ROUNDS.
 * What differs is the runner itself: its processes on the same 2 cores, its own 50 ms
 * `query-migrate` poll plus the bench's 50 ms `GET /migration` (the raw pair is polled at 50 ms).
 */
import { MIGRATION_PORT } from '../crds';
import { builtinGuest } from '../crds/testing';
import { pollUntil } from '../host';
import { migrationTuningArgs, type MigrationInfoBody, type RunnerMigrationTuning } from '../runner/api';
import { accelVerdict } from '../runner/lifecycle';
import {
  DEFAULT_MIGRATION_TUNING,
  planSourceMigration,
  planTargetMigration,
  type MigrationQmpPlan,
  type MigrationRequestChoices,
  type MigrationTuning,
} from '../runner/plan/migration-tuning';
import type { QueryMigrate } from '../runner/vm-control/migration-info';
import { stopsGuestForStream } from '../runner/vm-control/migration';
import {
  diskMigrationPort,
  disconnectMirrors,
  endMirrors,
  exportDisks,
  hasBlockMigration,
  mirrorDisks,
  queryWritableDisks,
  stopDiskExports,
} from '../runner/vm-control/migration-disks';
import { hostQemuVersion } from '../runner/testing/host-qemu';
import { RunnerHarness } from '../runner/testing/runner-harness';
import { bootGuestVm, waitGuestReady, type GuestVm } from '../runner/testing/guest-vm';
import { median } from './percentile';
import type { BenchRow } from './table';

const IDLE_ROUNDS_DEFAULT = 3;
const BUSY_ROUNDS_DEFAULT = 2;
const SETTLE_MS = 3000;
const POLL_MS = 50;
const MIB = 1024 * 1024;

/** VirtualMachineMigration's spec defaults (upstream's): auto-converge on, 1Gi/s. */
export const REQUEST_DEFAULTS: MigrationRequestChoices = {
  autoConverge: true,
  allowPostCopy: false,
  maxBandwidthBytes: 1024 * MIB,
};

/** QEMU's own behaviour: no tuning capability, its 300 ms downtime limit. */
export const UNTUNED: MigrationTuning = {
  xbzrle: false,
  xbzrleCacheBytes: 256 * MIB,
  compression: 'none',
  threads: 2,
  zeroBlocks: false,
  downtimeLimitMs: 300,
};

export interface Case {
  readonly name: string;
  /** undefined: the runner's defaults, started without any `-migration-*` flag. */
  readonly tuning?: MigrationTuning;
  readonly request: MigrationRequestChoices;
}

export const CASES: readonly Case[] = [
  { name: 'runner defaults', request: REQUEST_DEFAULTS },
  { name: 'untuned (QEMU 300 ms limit)', tuning: UNTUNED, request: REQUEST_DEFAULTS },
  {
    name: 'untuned, auto-converge off',
    tuning: UNTUNED,
    request: { ...REQUEST_DEFAULTS, autoConverge: false },
  },
  { name: 'downtime-limit 100 ms', tuning: { ...UNTUNED, downtimeLimitMs: 100 }, request: REQUEST_DEFAULTS },
  { name: 'downtime-limit 50 ms', tuning: { ...UNTUNED, downtimeLimitMs: 50 }, request: REQUEST_DEFAULTS },
  { name: 'downtime-limit 30 ms', tuning: { ...UNTUNED, downtimeLimitMs: 30 }, request: REQUEST_DEFAULTS },
  { name: 'xbzrle (256 MiB cache)', tuning: { ...UNTUNED, xbzrle: true }, request: REQUEST_DEFAULTS },
  {
    name: 'compress (2 threads)',
    tuning: { ...UNTUNED, compression: 'compress' },
    request: REQUEST_DEFAULTS,
  },
  {
    name: "upstream's (xbzrle + compress + zero-blocks)",
    tuning: { ...UNTUNED, xbzrle: true, compression: 'compress', zeroBlocks: true },
    request: REQUEST_DEFAULTS,
  },
  { name: 'multifd (2 channels)', tuning: { ...UNTUNED, compression: 'multifd' }, request: REQUEST_DEFAULTS },
  {
    name: 'multifd-zstd (2 channels)',
    tuning: { ...UNTUNED, compression: 'multifd-zstd' },
    request: REQUEST_DEFAULTS,
  },
  // The defaults with one change each (QEMU >= 9.1 re-measure; appended to keep the indices above).
  {
    name: 'defaults + multifd (2 channels)',
    tuning: { ...DEFAULT_MIGRATION_TUNING, compression: 'multifd' },
    request: REQUEST_DEFAULTS,
  },
  {
    name: 'defaults + xbzrle (256 MiB cache)',
    tuning: { ...DEFAULT_MIGRATION_TUNING, xbzrle: true },
    request: REQUEST_DEFAULTS,
  },
  {
    name: 'defaults, auto-converge off',
    tuning: DEFAULT_MIGRATION_TUNING,
    request: { ...REQUEST_DEFAULTS, autoConverge: false },
  },
  {
    name: 'defaults, max-bandwidth 256Mi',
    tuning: DEFAULT_MIGRATION_TUNING,
    request: { ...REQUEST_DEFAULTS, maxBandwidthBytes: 256 * MIB },
  },
];

const IDLE_SPEC = {
  guest: builtinGuest({ min: 1, max: 4, use: 1 }, { min: 1, max: 2, use: 1 }),
  enableSSH: false,
};

/** A 16 MiB working set in /dev/shm copied over itself twice a second: ~32 MiB/s dirtied. */
const BUSY_SPEC = {
  guest: {
    ...builtinGuest({ min: 1, max: 2, use: 1 }, { min: 1, max: 1, use: 1 }),
    command: [
      '/bin/sh',
      '-c',
      'head -c 16777216 /dev/urandom > /dev/shm/seed; while :; do cp /dev/shm/seed /dev/shm/work; sleep 0.5; done',
    ],
  },
  enableSSH: false,
};

interface Outcome {
  readonly totalMs: number;
  readonly downtimeMs: number;
  readonly ramMiB: number;
}

/** The runner flags of a tuning: every field explicit, so a row measures that tuning whatever the defaults. */
function runnerFlags(t: MigrationTuning | undefined): string[] {
  if (!t) return [];
  const r: RunnerMigrationTuning = {
    xbzrle: t.xbzrle,
    xbzrleCacheSize: String(t.xbzrleCacheBytes),
    compression: t.compression,
    threads: t.threads,
    zeroBlocks: t.zeroBlocks,
    downtimeLimitMs: t.downtimeLimitMs,
  };
  return migrationTuningArgs(r);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function outcome(status: string | undefined, total?: number, downtime?: number, ram?: number): Outcome {
  if (status !== 'completed') throw new Error(`migration ${status}`);
  return { totalMs: total ?? NaN, downtimeMs: downtime ?? NaN, ramMiB: (ram ?? NaN) / MIB };
}

async function runnerMigration(
  h: RunnerHarness,
  spec: Record<string, unknown>,
  c: Case,
  tag: string,
): Promise<Outcome> {
  const extraFlags = runnerFlags(c.tuning);
  try {
    const src = h.start({ name: `mig-s${tag}`, ip: '127.0.0.12', spec, extraFlags });
    await h.waitReady(src);
    await sleep(SETTLE_MS);
    const dst = h.start({
      name: `mig-d${tag}`,
      ip: '127.0.0.13',
      spec,
      // The target gets the source's plugged vCPUs (scale-down keeps them plugged, offline).
      status: { cpus: (await src.client.status()).cpus.plugged },
      receiveMigration: true,
      extraFlags,
    });
    await h.waitIncoming(dst);
    await src.client.startMigration({
      targetHost: '127.0.0.13',
      autoConverge: c.request.autoConverge,
      allowPostCopy: c.request.allowPostCopy,
      maxBandwidth: c.request.maxBandwidthBytes,
    });
    const info: MigrationInfoBody = await h.migrationOutcome(src, { intervalMs: POLL_MS });
    return outcome(info.status, info.totalTimeMs, info.downtimeMs, info.ram?.transferred);
  } finally {
    await h.stopAll();
  }
}

async function setAll(vm: GuestVm, plan: MigrationQmpPlan): Promise<void> {
  await vm.qmp.execute('migrate-set-capabilities', {
    capabilities: Object.entries(plan.capabilities).map(([capability, state]) => ({ capability, state })),
  });
  if (Object.keys(plan.parameters).length > 0)
    await vm.qmp.execute('migrate-set-parameters', plan.parameters);
}

async function rawMigration(
  h: RunnerHarness,
  accel: 'kvm' | 'tcg',
  spec: Record<string, unknown>,
  c: Case,
  tag: string,
): Promise<Outcome> {
  const tuning = c.tuning ?? DEFAULT_MIGRATION_TUNING;
  const vms: GuestVm[] = [];
  try {
    const src = await bootGuestVm({
      dir: h.tempDir('neonvm-raw-'),
      guest: h.guest,
      spec,
      name: `raw-s${tag}`,
      accel,
    });
    vms.push(src);
    await waitGuestReady(src);
    await sleep(SETTLE_MS);
    const dst = await bootGuestVm({
      dir: h.tempDir('neonvm-raw-'),
      guest: h.guest,
      spec,
      name: `raw-d${tag}`,
      accel,
      incoming: 'defer',
      agentToken: src.agentToken, // the guest it receives checks the source's token
    });
    vms.push(dst);
    const target = planTargetMigration(tuning);
    await setAll(dst, target);
    if (target.tryPostCopy)
      await dst.qmp.execute('migrate-set-capabilities', {
        capabilities: [{ capability: 'postcopy-ram', state: true }],
      });
    const version = src.qmp.greeting?.QMP.version.qemu;
    const blockMigration = hasBlockMigration(version);
    // As the runner without block migration (QEMU >= 9.1, Migrator.listen/start): the target holds
    // the guest until its NBD-exported disks are closed; the source mirrors them first and ends the
    // mirrors at the switch-over pause.
    const disks = blockMigration ? [] : await queryWritableDisks(src.qmp);
    const unsubscribe: Array<() => void> = [];
    if (disks.length > 0) {
      await dst.qmp.execute('stop');
      await setAll(dst, { capabilities: { 'late-block-activate': true, events: true }, parameters: {} });
      await exportDisks(dst.qmp, '127.0.0.13', diskMigrationPort(MIGRATION_PORT));
      unsubscribe.push(
        dst.qmp.onEvent('MIGRATION', (e) => {
          if ((e.data as { status?: string } | undefined)?.status === 'completed')
            void stopDiskExports(dst.qmp).then(() => dst.qmp.execute('cont'));
        }),
        src.qmp.onEvent('MIGRATION', (e) => {
          if ((e.data as { status?: string } | undefined)?.status === 'pre-switchover')
            void endMirrors(src.qmp, disks, sleep)
              .then(() => src.qmp.execute('migrate-continue', { state: 'pre-switchover' }))
              .then(() => disconnectMirrors(src.qmp, disks));
        }),
      );
    }
    await dst.qmp.execute('migrate-incoming', { uri: `tcp:127.0.0.13:${MIGRATION_PORT}` });
    const plan = planSourceMigration(tuning, c.request);
    await setAll(src, {
      ...plan,
      capabilities: {
        ...plan.capabilities,
        ...(blockMigration ? {} : { 'pause-before-switchover': disks.length > 0, events: true }),
      },
    });
    if (disks.length > 0)
      await mirrorDisks(src.qmp, disks, {
        host: '127.0.0.13',
        port: diskMigrationPort(MIGRATION_PORT),
        incremental: true,
        speed: c.request.maxBandwidthBytes,
        readyTimeoutMs: 600_000,
        sleep,
      });
    // As the runner: under TCG before QEMU 9.0 the guest is stopped for the whole stream, and the
    // downtime is then the stream's total (Migrator.info).
    const stopFirst = stopsGuestForStream(accel, version);
    if (stopFirst) await src.qmp.execute('stop');
    const uri = `tcp:127.0.0.13:${MIGRATION_PORT}`;
    await src.qmp.execute('migrate', blockMigration ? { uri, blk: false, inc: true } : { uri });
    const q = await pollUntil(
      async () => {
        const r = await src.qmp.execute<QueryMigrate>('query-migrate');
        return ['completed', 'failed', 'cancelled'].includes(r.status ?? '') ? r : undefined;
      },
      { timeoutMs: 120_000, intervalMs: POLL_MS, description: 'raw migration' },
    );
    const downtime = stopFirst ? q['total-time'] : q.downtime;
    for (const off of unsubscribe) off();
    return outcome(q.status, q['total-time'], downtime, q.ram?.transferred);
  } finally {
    for (const vm of vms) await vm.stop().catch(() => undefined);
  }
}

interface Samples {
  runner: Outcome[];
  raw: Outcome[];
  failures: string[];
}

/** ROUNDS alternating runner/raw migrations of one case; a failed sample is kept as a failure. */
async function measure(
  h: RunnerHarness,
  accel: 'kvm' | 'tcg',
  spec: Record<string, unknown>,
  c: Case,
  rounds: number,
  id: string,
): Promise<Samples> {
  const s: Samples = { runner: [], raw: [], failures: [] };
  const one = async (kind: 'runner' | 'raw', round: number) => {
    const tag = `${id}r${round}xxx`;
    const t0 = performance.now();
    try {
      const o =
        kind === 'runner'
          ? await runnerMigration(h, spec, c, tag)
          : await rawMigration(h, accel, spec, c, tag);
      s[kind].push(o);
      console.error(
        `[runner-migration] ${c.name} ${kind} round ${round}: total ${o.totalMs} ms, downtime ${o.downtimeMs} ms, RAM ${o.ramMiB.toFixed(1)} MiB (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
      );
    } catch (e) {
      s.failures.push(`${kind}: ${(e as Error).message.split('\n')[0]}`);
      console.error(`[runner-migration] ${c.name} ${kind} round ${round} FAILED: ${(e as Error).message}`);
    }
  };
  for (let round = 0; round < rounds; round++) {
    const order: Array<'runner' | 'raw'> = round % 2 === 0 ? ['runner', 'raw'] : ['raw', 'runner'];
    for (const kind of order) await one(kind, round);
  }
  return s;
}

function rows(label: string, c: Case, s: Samples, rounds: number): BenchRow[] {
  const m = (xs: Outcome[], k: keyof Outcome) => (xs.length ? median(xs.map((x) => x[k])) : NaN);
  const n = `n=${s.runner.length}/${s.raw.length} of ${rounds}`;
  const failed = s.failures.length ? `; failed: ${s.failures.join(', ')}` : '';
  const base = `raw QEMU, same caps/params (${n}${failed})`;
  const row = (what: string, k: keyof Outcome, unit: string, target: string): BenchRow => {
    const value = m(s.runner, k);
    const baseline = m(s.raw, k);
    return {
      name: `migration ${label}, ${c.name}: ${what}`,
      value,
      unit,
      baseline,
      baselineName: base,
      ratio: baseline > 0 ? value / baseline : undefined,
      target,
    };
  };
  return [
    row('downtime', 'downtimeMs', 'ms', '≤ raw + 10 ms'),
    row('total', 'totalMs', 'ms', '≤ 1.3×'),
    row('RAM sent', 'ramMiB', 'MiB', 'informational'),
  ];
}

/** The migration rows; `h` is initialised and has no runner running. `o` narrows a trial run. */
export async function migrationRows(
  h: RunnerHarness,
  accel: 'kvm' | 'tcg',
  o: {
    cases?: readonly Case[];
    idleCases?: readonly Case[];
    idleRounds?: number;
    busyRounds?: number;
  } = {},
): Promise<BenchRow[]> {
  const idleRounds = o.idleRounds ?? IDLE_ROUNDS_DEFAULT;
  const busyRounds = o.busyRounds ?? BUSY_ROUNDS_DEFAULT;
  const qemu = await hostQemuVersion();
  // QEMU 9.1 removed the `compress` capability (and block migration): those rows cannot run there.
  const runs = (c: Case) => !(c.tuning?.compression === 'compress' && !hasBlockMigration(qemu));
  const cases = (o.cases ?? CASES).filter(runs);
  const out: BenchRow[] = [];
  const how = `QEMU ${qemu.major}.${qemu.minor}.${qemu.micro}, ${stopsGuestForStream(accel, qemu) ? 'stop-and-copy' : 'live pre-copy'}`;
  // The idle guest with the runner's defaults (issue 21's targets) and untuned (what they change).
  for (const [i, c] of (o.idleCases ?? CASES.slice(0, 2)).entries())
    out.push(
      ...rows(
        `idle guest (${how})`,
        c,
        await measure(h, accel, IDLE_SPEC, c, idleRounds, `i${i}`),
        idleRounds,
      ),
    );
  for (const [i, c] of cases.entries())
    out.push(
      ...rows(
        `busy guest (16 MiB rewritten 2×/s; ${how})`,
        c,
        await measure(h, accel, BUSY_SPEC, c, busyRounds, `b${i}`),
        busyRounds,
      ),
    );
  return out;
}

/**
 * A part of the run, so it fits a machine-lock hold: NEONVM_BENCH_MIGRATION_PART=idle (the idle rows
 * only) or busy (the busy rows only); NEONVM_BENCH_MIGRATION_BUSY_CASES=0,4 and
 * NEONVM_BENCH_MIGRATION_IDLE_CASES=0,1 pick cases by index in CASES;
 * NEONVM_BENCH_MIGRATION_IDLE_ROUNDS / _BUSY_ROUNDS the rounds. Unset: everything, default rounds.
 */
export function partFromEnv(env: NodeJS.ProcessEnv = process.env): {
  idleCases?: readonly Case[];
  cases?: readonly Case[];
  idleRounds?: number;
  busyRounds?: number;
} {
  const part = env.NEONVM_BENCH_MIGRATION_PART;
  if (part !== undefined && part !== 'idle' && part !== 'busy')
    throw new Error(`NEONVM_BENCH_MIGRATION_PART must be idle or busy, not "${part}"`);
  const pick = (name: string) =>
    env[name]?.split(',').map((x) => {
      const c = CASES[Number(x)];
      if (!c) throw new Error(`${name}: no case ${x} (0-${CASES.length - 1})`);
      return c;
    });
  const rounds = (name: string): number | undefined => {
    const v = env[name];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, not "${v}"`);
    return n;
  };
  const picked = pick('NEONVM_BENCH_MIGRATION_BUSY_CASES');
  const idlePicked = pick('NEONVM_BENCH_MIGRATION_IDLE_CASES');
  const idleRounds = rounds('NEONVM_BENCH_MIGRATION_IDLE_ROUNDS');
  const busyRounds = rounds('NEONVM_BENCH_MIGRATION_BUSY_ROUNDS');
  return {
    ...(part === 'busy' ? { idleCases: [] } : idlePicked ? { idleCases: idlePicked } : {}),
    ...(part === 'idle' ? { cases: [] } : picked ? { cases: picked } : {}),
    ...(idleRounds ? { idleRounds } : {}),
    ...(busyRounds ? { busyRounds } : {}),
  };
}

export default async function benchRunnerMigration(): Promise<BenchRow[]> {
  const h = new RunnerHarness();
  try {
    await h.init();
    const accel = (await accelVerdict(h.guest.kernel)).accel;
    return await migrationRows(h, accel, partFromEnv());
  } finally {
    await h.stopAll();
  }
}
