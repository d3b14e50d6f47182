/**
 * A rollout from the runner image with Debian 12's QEMU 7.2 to one with bookworm-backports' QEMU 10:
 * real runners, one on each QEMU (`scripts/ensure-qemu.sh` puts 10 first on the target's PATH), migrate
 * a VM with a written root disk and an emptyDisk over TLS, the way the operator drives it (the target's
 * `GET /qemu` `incomingDisks`/`qemuVersion` passed to the source's `POST /migration`). Both start the
 * pinned machine type (`MACHINE_TYPES`, pc-q35-7.2), so the 10 target accepts the 7.2 source's device
 * state; the 7.2 source, which would use block migration towards its own kind, mirrors the disks over
 * NBD as the 10 target expects. The way back (10 → 7.2: the 7.2 target wants block migration, which
 * QEMU 9.1 removed) is refused by the source with both versions named, and the VM keeps running.
 */
import { QEMU_TLS_FILES, migrationTlsHostname } from './api';
import { createMigrationCa, issueMigrationCertificate } from '../operator/migration-tls';
import { releaseQemuBin } from './testing/host-qemu';
import { RunnerHarness, sshGuest, type TestRunner } from './testing/runner-harness';

jest.setTimeout(900_000);

const h = new RunnerHarness();
let qemu10Bin: string;

beforeAll(async () => {
  await h.init();
  qemu10Bin = releaseQemuBin();
});
afterAll(() => h.stopAll());

const spec = {
  guest: {
    rootDisk: { image: 'builtin' },
    cpus: { min: 1, max: 2, use: 1 },
    memorySlotSize: '256Mi',
    memorySlots: { min: 1, max: 2, use: 1 },
  },
  disks: [{ name: 'data', mountPath: '/data', emptyDisk: { size: '64Mi' } }],
};

describe('migration between runners on QEMU 7.2 and QEMU 10 (a mixed rollout)', () => {
  let files: Record<string, string>;
  let flags: string[];
  let a: TestRunner;
  let b: TestRunner;

  beforeAll(async () => {
    const ca = await createMigrationCa();
    const hostname = migrationTlsHostname('6f1d2c3b-aaaa-4bbb-8ccc-00000000a710');
    const leaf = await issueMigrationCertificate(ca, hostname);
    const byKey = { 'ca.crt': ca.cert, 'tls.crt': leaf.cert, 'tls.key': leaf.key };
    const key = await h.keyPair();
    files = {
      ...Object.fromEntries(QEMU_TLS_FILES.map(({ file, key: k }) => [`vm/migration-tls/${file}`, byKey[k]])),
      'vm/ssh/authorized_keys': key.publicKey,
      'mnt/ssh/id_ed25519': key.privateKey,
    };
    flags = ['-migration-tls-dir=/vm/migration-tls', `-migration-tls-hostname=${hostname}`];
    a = h.start({ name: 'mq-aaaaa', ip: '127.0.0.22', spec, podFiles: files, extraFlags: flags });
    await h.waitReady(a);
  });

  it('7.2 → 10: the disks over NBD, the guest and its writes intact', async () => {
    expect((await a.client.qemuState()).qemuVersion).toMatch(/^7\.2\./);
    await sshGuest(a, 'echo on-root > /root/before.txt; echo on-data > /data/before.txt; sync');
    const plugged = (await a.client.status()).cpus.plugged;
    b = h.start({
      name: 'mq-bbbbb',
      ip: '127.0.0.23',
      spec,
      status: { cpus: plugged },
      receiveMigration: true,
      podFiles: files,
      extraFlags: flags,
      env: { PATH: `${qemu10Bin}:${process.env.PATH ?? ''}` },
    });
    await h.waitIncoming(b);
    const target = await b.client.qemuState();
    expect(target).toMatchObject({ incomingDisks: 'nbd' });
    expect(target.qemuVersion).toMatch(/^(9\.[1-9]|[1-9]\d)\./);
    const started = await a.client.startMigration({
      targetHost: '127.0.0.23',
      targetVcpus: plugged,
      targetDisks: target.incomingDisks,
      targetQemu: target.qemuVersion,
    });
    expect(started.status).toBe('setup'); // the mirrors run before the stream, after the call
    const info = await h.migrationOutcome(a, { timeoutMs: 300_000 });
    expect(info.status).toBe('completed');
    await h.waitReady(b, 120_000);
    expect((await b.client.status()).qemuStatus).toBe('running');
    expect((await sshGuest(b, 'cat /root/before.txt /data/before.txt')).stdout).toBe('on-root\non-data\n');
    // Still writable after the move (the target's disks took over from its NBD exports).
    expect((await sshGuest(b, 'echo after > /data/after.txt && sync && cat /data/after.txt')).stdout).toBe(
      'after\n',
    );
  });

  it('10 → 7.2 is refused by the source, naming both QEMU versions; the VM keeps running', async () => {
    const plugged = (await b.client.status()).cpus.plugged;
    const c = h.start({
      name: 'mq-ccccc',
      ip: '127.0.0.24',
      spec,
      status: { cpus: plugged },
      receiveMigration: true,
      podFiles: files,
      extraFlags: flags,
    });
    await h.waitIncoming(c);
    const target = await c.client.qemuState();
    expect(target).toMatchObject({ incomingDisks: 'block' });
    await expect(
      b.client.startMigration({
        targetHost: '127.0.0.24',
        targetVcpus: plugged,
        targetDisks: target.incomingDisks,
        targetQemu: target.qemuVersion,
      }),
    ).rejects.toMatchObject({
      status: 409,
      message: expect.stringMatching(
        /target's QEMU 7\.2\.\d+ receives writable disks only by block migration, which this source's QEMU 10\.\d+\.\d+ no longer has/,
      ) as unknown,
    });
    expect((await b.client.status()).qemuStatus).toBe('running');
    expect((await sshGuest(b, 'cat /data/after.txt')).stdout).toBe('after\n');
  });
});
