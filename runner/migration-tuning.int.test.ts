/**
 * Migration tuning on real QEMU through two runner processes with the same `-migration-*` flags:
 * upstream's set (xbzrle with a 256 MiB cache, compress threads, zero-blocks) completes and fills
 * `compression` in the migration info (what the operator copies into status.info) on QEMU before 9.1,
 * and is refused with the flag and version named on a later QEMU (9.1 removed `compress`); multifd with
 * zstd compression completes (and the source's QEMU holds the `-migration-downtime-limit` given); post-copy over multifd is refused before anything starts. Both
 * migrations run over TLS with the operator's per-VM certificates, as on a cluster (migration TLS is
 * on by default): the tuning and the encryption work together, multifd's channels included.
 */
import { join } from 'node:path';
import type { MigrationInfoBody } from './api';
import { qemuBefore } from './plan/qemu-version';
import { QmpClient } from './qmp';
import { hostQemuVersion } from './testing/host-qemu';
import { createMigrationCa, testMigrationTls, type TestMigrationTls } from './testing/migration-tls';
import { RunnerHarness, type TestRunner } from './testing/runner-harness';
import { builtinGuest } from '../crds/testing';

jest.setTimeout(600_000);

const h = new RunnerHarness();
const spec = { guest: builtinGuest({ min: 1, max: 2, use: 1 }), enableSSH: false };
const log: string[] = [];
let tls: TestMigrationTls;

beforeAll(async () => {
  await h.init();
  tls = await testMigrationTls(await createMigrationCa(), '6f1d2c3b-aaaa-4bbb-8ccc-000000000022');
});
afterAll(async () => {
  await h.stopAll();
  console.log(log.join('\n'));
});

/** The last JSON log line of a runner with this message. */
function logEntry(output: string, msg: string): Record<string, unknown> | undefined {
  const line = output
    .split('\n')
    .filter((l) => l.includes(`"msg":"${msg}"`))
    .pop();
  return line === undefined
    ? undefined
    : (JSON.parse(line.slice(line.indexOf('{'))) as Record<string, unknown>);
}

/** Boots a source and a target with the same tuning flags and migrates between them over TLS. */
async function migrate(
  name: string,
  flags: string[],
  ips: [string, string],
): Promise<{ info: MigrationInfoBody; source: TestRunner; target: TestRunner }> {
  const source = h.start({
    name: `${name}-src-aaaaa`,
    ip: ips[0],
    spec,
    podFiles: tls.files,
    extraFlags: [...flags, ...tls.flags],
  });
  await h.waitReady(source);
  const target = h.start({
    name: `${name}-dst-bbbbb`,
    ip: ips[1],
    spec,
    status: { cpus: (await source.client.status()).cpus.plugged },
    receiveMigration: true,
    podFiles: tls.files,
    extraFlags: [...flags, ...tls.flags],
  });
  await h.waitIncoming(target);
  await source.client.startMigration({ targetHost: ips[1] });
  const info = await h.migrationOutcome(source, { intervalMs: 100 });
  expect(logEntry(source.output(), 'migration started')).toMatchObject({ tls: true });
  expect(logEntry(target.output(), 'waiting for the incoming migration')).toMatchObject({ tls: true });
  log.push(`${name} (${flags.join(' ')}): ${JSON.stringify(info)}`);
  return { info, source, target };
}

it("migrates with upstream's tuning and reports the compression figures (QEMU >= 9.1: refused, naming the flag)", async () => {
  const flags = ['-migration-xbzrle', '-migration-compression=compress', '-migration-zero-blocks'];
  // QEMU 9.1 removed the `compress` capability that upstream's tuning uses.
  const qemu = await hostQemuVersion();
  if (!qemuBefore(qemu, 9, 1)) {
    const source = h.start({ name: 'upstream-src-aaaaa', ip: '127.0.22.2', spec, extraFlags: flags });
    await h.waitReady(source);
    // The runner says why before QEMU is asked (QEMU alone would answer "does not accept value").
    await expect(source.client.startMigration({ targetHost: '127.0.22.3' })).rejects.toThrow(
      `-migration-compression=compress needs QEMU before 9.1, which removed the compress capability; this QEMU is ${qemu.major}.${qemu.minor}`,
    );
    expect((await source.client.status()).qemuStatus).toBe('running');
    log.push(`upstream: refused on QEMU ${qemu.major}.${qemu.minor}`);
    await h.stopAll();
    return;
  }
  const { info, target } = await migrate(
    'upstream',
    ['-migration-xbzrle', '-migration-compression=compress', '-migration-zero-blocks'],
    ['127.0.22.2', '127.0.22.3'],
  );
  expect(info.status).toBe('completed');
  expect(info.compression?.compressedSize).toBeGreaterThan(0);
  expect(info.compression?.compressionRate).toBeGreaterThan(1);
  await h.waitReady(target);
  expect((await target.client.status()).qemuStatus).toBe('running');
  await h.stopAll();
});

it('migrates over multifd channels with zstd, with the downtime limit given', async () => {
  const { info, source, target } = await migrate(
    'multifd',
    ['-migration-compression=multifd-zstd', '-migration-threads=2', '-migration-downtime-limit=120'],
    ['127.0.22.4', '127.0.22.5'],
  );
  expect(info.status).toBe('completed');
  // What the source's QEMU was told, read on its second (humans' and tools') QMP socket.
  const qmp = await QmpClient.connect({ socketPath: join(source.root, 'r', 'qmp-manual.sock') });
  try {
    const params = await qmp.execute<Record<string, unknown>>('query-migrate-parameters');
    expect(params).toMatchObject({
      'downtime-limit': 120,
      'multifd-channels': 2,
      'multifd-compression': 'zstd',
    });
  } finally {
    await qmp.close();
  }
  await h.waitReady(target);
  expect((await target.client.status()).qemuStatus).toBe('running');
});

it('refuses post-copy over multifd before starting anything', async () => {
  const source = h.start({
    name: 'pc-src-ccccc',
    ip: '127.0.22.6',
    spec,
    extraFlags: ['-migration-compression=multifd'],
  });
  await h.waitReady(source);
  await expect(
    source.client.startMigration({ targetHost: '127.0.22.7', allowPostCopy: true }),
  ).rejects.toMatchObject({
    status: 400,
    message: expect.stringMatching(/allowPostCopy cannot be combined/),
  });
  expect((await source.client.migration()).status).toBe('none');
  expect((await source.client.status()).migrationRole).toBe('none');
});
