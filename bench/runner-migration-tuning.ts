/**
 * Migration tuning rows of `npm run bench -- runner`: one runner → runner migration per tuning of
 * `runner/plan/migration-tuning.ts` (both runners started with the same `-migration-*` flags), of a
 * guest that keeps rewriting a 16 MiB working set (what xbzrle and compression are for), against
 * the untuned migration of the same guest in the same run. Informational: issue 21 picks defaults.
 */
import type { MigrationInfoBody } from '../runner/api';
import type { RunnerHarness } from '../runner/testing/runner-harness';
import { builtinGuest } from '../crds/testing';
import type { BenchRow } from './table';

const TUNINGS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['none', []],
  ['xbzrle (256 MiB cache)', ['-migration-xbzrle']],
  ['compress (2 threads)', ['-migration-compression=compress']],
  [
    "upstream's (xbzrle + compress + zero-blocks)",
    ['-migration-xbzrle', '-migration-compression=compress', '-migration-zero-blocks'],
  ],
  ['multifd (2 channels)', ['-migration-compression=multifd']],
  ['multifd-zstd (2 channels)', ['-migration-compression=multifd-zstd']],
];

/** A 16 MiB working set in /dev/shm copied over itself twice a second: pages dirtied with the same data. */
const spec = {
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

async function migrateOnce(
  h: RunnerHarness,
  flags: readonly string[],
  round: number,
): Promise<MigrationInfoBody> {
  const src = h.start({ name: `tune-s${round}xxxx`, ip: '127.0.0.14', spec, extraFlags: [...flags] });
  await h.waitReady(src);
  await new Promise((r) => setTimeout(r, 3000)); // the working set exists and is being rewritten
  const dst = h.start({
    name: `tune-d${round}xxxx`,
    ip: '127.0.0.15',
    spec,
    status: { cpus: (await src.client.status()).cpus.plugged },
    receiveMigration: true,
    extraFlags: [...flags],
  });
  await h.waitIncoming(dst);
  await src.client.startMigration({ targetHost: '127.0.0.15' });
  const info = await h.migrationOutcome(src, { intervalMs: 20 });
  await h.stopAll();
  if (info.status !== 'completed')
    throw new Error(`migration with ${flags.join(' ') || 'no tuning'}: ${info.status}`);
  return info;
}

export async function migrationTuningRows(h: RunnerHarness): Promise<BenchRow[]> {
  const results: Array<[string, MigrationInfoBody]> = [];
  for (const [i, [name, flags]] of TUNINGS.entries()) results.push([name, await migrateOnce(h, flags, i)]);
  const base = results[0][1];
  const rows: BenchRow[] = [];
  const add = (name: string, value: number, baseline: number, unit: string) =>
    rows.push({
      name,
      value,
      unit,
      baseline,
      baselineName: 'no tuning, same guest and run',
      ratio: baseline > 0 ? value / baseline : undefined,
      target: 'informational',
    });
  const mib = (b?: number) => (b ?? NaN) / (1024 * 1024);
  for (const [name, info] of results.slice(1)) {
    add(
      `migration ${name}: total (rewriting 16 MiB)`,
      info.totalTimeMs ?? NaN,
      base.totalTimeMs ?? NaN,
      'ms',
    );
    add(`migration ${name}: downtime`, info.downtimeMs ?? NaN, base.downtimeMs ?? NaN, 'ms');
    add(`migration ${name}: RAM sent`, mib(info.ram?.transferred), mib(base.ram?.transferred), 'MiB');
  }
  return rows;
}
