/**
 * Issue 17 / 21: does a migration carry the guest's RAM intact? Two QEMUs booted by the runner's own
 * planners (runner/testing/guest-vm.ts), the guest rewriting memory and answering agent requests
 * throughout, both ends held to a few percent of a CPU from the stream's start (source 100m, target
 * 50m: the load under which the fault suite found corrupt guests), the runner's migration plan
 * (`planSourceMigration` with the default tuning and VirtualMachineMigration's defaults), and the
 * runner's choice of live pre-copy or stop-and-copy (`stopsGuestForStream`, by the QMP greeting's
 * QEMU version). The target is started with `-S`, so it stays paused after the stream; then both
 * guests' RAM is saved (`pmemsave`) and compared page by page: every page must be equal.
 *
 * QEMU 7.2 under TCG gets stop-and-copy (its live pre-copy left 2-36 pages different in 9 of 18 such
 * runs, 2026-12-04); QEMU >= 9.0 (scripts/ensure-qemu.sh's 10.0.2 first on PATH) gets a live
 * pre-copy, which this test checks is sound there. Disks are not carried (the target never runs the
 * guest): only RAM is compared. NEONVM_RAM_ROUNDS sets the number of migrations (default 2).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MIGRATION_PORT } from '../crds';
import { builtinGuest } from '../crds/testing';
import { pollUntil } from '../host';
import { describeIf } from '../host/testing';
import { accelVerdict } from './lifecycle';
import { QemuCpuCgroup } from './pod-resources/cpu-cgroup';
import { DEFAULT_MIGRATION_TUNING, planSourceMigration, planTargetMigration } from './plan/migration-tuning';
import { bootGuestVm, waitGuestReady, type GuestVm } from './testing/guest-vm';
import { RunnerHarness } from './testing/runner-harness';
import type { QueryMigrate } from './vm-control/migration-info';
import { stopsGuestForStream } from './vm-control/migration';
import type { MigrationQmpPlan } from './plan/migration-tuning';

jest.setTimeout(1_800_000);

const ROUNDS = Number(process.env.NEONVM_RAM_ROUNDS ?? 2);
const PAGE = 4096;

/**
 * 1 MiB of /dev/shm rewritten five times a second (~5 MiB/s dirtied) while the guest runs: enough
 * stores during the stream, and a pre-copy that still converges at 100m of CPU.
 */
const SPEC = {
  guest: {
    ...builtinGuest({ min: 1, max: 2, use: 1 }, { min: 1, max: 1, use: 1 }),
    command: [
      '/bin/sh',
      '-c',
      'head -c 1048576 /dev/urandom > /dev/shm/seed; while :; do cp /dev/shm/seed /dev/shm/work; sleep 0.2; done',
    ],
  },
  enableSSH: false,
};

/** Indexes of the pages that differ between two RAM images (pure). */
export function differingPages(a: Buffer, b: Buffer, pageSize = PAGE): number[] {
  if (a.length !== b.length) throw new Error(`RAM images differ in size: ${a.length} vs ${b.length}`);
  const out: number[] = [];
  for (let off = 0; off < a.length; off += pageSize)
    if (a.compare(b, off, off + pageSize, off, off + pageSize) !== 0) out.push(off / pageSize);
  return out;
}

async function setAll(vm: GuestVm, plan: MigrationQmpPlan): Promise<void> {
  await vm.qmp.execute('migrate-set-capabilities', {
    capabilities: Object.entries(plan.capabilities).map(([capability, state]) => ({ capability, state })),
  });
  if (Object.keys(plan.parameters).length > 0)
    await vm.qmp.execute('migrate-set-parameters', plan.parameters);
}

const h = new RunnerHarness();
beforeAll(() => h.init());
afterAll(() => h.stopAll());

describeIf(process.getuid?.() === 0, 'needs root (CPU cgroups)')(
  'guest RAM after a starved migration',
  () => {
    it(`is the same on both ends, page by page (${ROUNDS} migrations)`, async () => {
      const accel = (await accelVerdict(h.guest.kernel)).accel;
      const results: string[] = [];
      let failed = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const vms: GuestVm[] = [];
        const cgroups: QemuCpuCgroup[] = [];
        try {
          const cgroup = async (name: string) => {
            const c = await QemuCpuCgroup.create(`${name}-${process.pid}`);
            if (typeof c === 'string') throw new Error(`no CPU cgroup: ${c}`);
            cgroups.push(c);
            return c;
          };
          const dir = () => h.tempDir('neonvm-ram-');
          const src = await bootGuestVm({
            dir: dir(),
            guest: h.guest,
            spec: SPEC,
            name: `ram-s${round}`,
            accel,
          });
          vms.push(src);
          await waitGuestReady(src);
          await new Promise((r) => setTimeout(r, 3000)); // the workload is running
          const dst = await bootGuestVm({
            dir: dir(),
            guest: h.guest,
            spec: SPEC,
            name: `ram-d${round}`,
            accel,
            incoming: 'defer',
            paused: true,
            agentToken: src.agentToken,
          });
          vms.push(dst);
          const version = src.qmp.greeting?.QMP.version.qemu;
          const stopFirst = stopsGuestForStream(accel, version);
          await setAll(dst, planTargetMigration(DEFAULT_MIGRATION_TUNING));
          const uri = `tcp:127.0.0.1:${MIGRATION_PORT + 1 + round}`;
          await dst.qmp.execute('migrate-incoming', { uri });
          await setAll(
            src,
            planSourceMigration(DEFAULT_MIGRATION_TUNING, {
              autoConverge: true,
              allowPostCopy: false,
              maxBandwidthBytes: 1024 * 1024 * 1024,
            }),
          );
          const [cs, ct] = [await cgroup('ram-src'), await cgroup('ram-tgt')];
          await cs.setCpu(100);
          await ct.setCpu(50);
          await cs.addProcess(src.qemu.pid);
          await ct.addProcess(dst.qemu.pid);
          process.stderr.write(`[migration-ram] round ${round}: both booted, migrating\n`);
          if (stopFirst) await src.qmp.execute('stop');
          // TCP traffic into the guest during the stream (the agent behind slirp), as in the fault suite.
          let streaming = true;
          const traffic = (async () => {
            while (streaming) await src.agent.ready(300).catch(() => false);
          })();
          await src.qmp.execute('migrate', { uri });
          const q = await pollUntil(
            async () => {
              const r = await src.qmp.execute<QueryMigrate>('query-migrate');
              return ['completed', 'failed', 'cancelled'].includes(r.status ?? '') ? r : undefined;
            },
            { timeoutMs: 240_000, intervalMs: 100, description: 'the starved migration to end' },
          ).finally(() => {
            streaming = false;
          });
          await traffic;
          for (const c of cgroups) await c.setCpu(4000);
          if (q.status !== 'completed') throw new Error(`migration ${q.status}: ${q['error-desc'] ?? ''}`);
          await pollUntil(
            async () => {
              const r = await dst.qmp.execute<{ status: string }>('query-status');
              return r.status === 'paused' ? true : undefined;
            },
            { timeoutMs: 30_000, description: 'the target to hold the loaded guest, paused' },
          );
          const { 'base-memory': size } = await src.qmp.execute<{ 'base-memory': number }>(
            'query-memory-size-summary',
          );
          const images: Buffer[] = [];
          for (const vm of [src, dst]) {
            const file = join(vm.dir, 'ram.bin');
            await vm.qmp.execute('pmemsave', { val: 0, size, filename: file });
            images.push(await readFile(file));
          }
          const diff = differingPages(images[0], images[1]);
          if (diff.length > 0) failed++;
          results.push(
            `round ${round}: QEMU ${version?.major}.${version?.minor}.${version?.micro} ${accel}, ` +
              `${stopFirst ? 'stop-and-copy' : 'live pre-copy'}, total ${q['total-time']} ms, ` +
              `downtime ${q.downtime} ms, ${diff.length} of ${size / PAGE} pages differ` +
              (diff.length ? ` (first: ${diff.slice(0, 8).join(', ')})` : ''),
          );
          // As it happens (jest prints console output only when the file ends): a long run cut short
          // still tells what it saw.
          process.stderr.write(`[migration-ram] ${results[results.length - 1]}\n`);
        } finally {
          for (const vm of vms) await vm.stop().catch(() => undefined);
          for (const c of cgroups) {
            await pollUntil(
              async () =>
                (await readFile(join(c.dir, 'cgroup.procs'), 'utf8')).trim() === '' ? true : undefined,
              { timeoutMs: 10_000, description: `${c.dir} to empty` },
            ).catch(() => undefined);
            await c.remove();
          }
        }
      }
      console.log(`${ROUNDS - failed} of ${ROUNDS} migrations carried the RAM intact\n${results.join('\n')}`);
      expect(failed).toBe(0);
    });
  },
);
