/**
 * Post-copy live migration (`allowPostCopy`): the source switches to post-copy right after starting,
 * the target runs the guest while the rest of its memory is fetched on demand (userfaultfd), and the
 * guest keeps what it had in memory and on disk.
 */
import { builtinGuest } from '../crds/testing';
import { RunnerHarness, sshGuest, type TestRunner } from './testing/runner-harness';

jest.setTimeout(300_000);
const h = new RunnerHarness();

beforeAll(() => h.init());
afterAll(() => h.stopAll());

it('migrates in post-copy mode and the guest keeps its memory and disk', async () => {
  const key = await h.keyPair();
  const podFiles = { 'vm/ssh/authorized_keys': key.publicKey, 'mnt/ssh/id_ed25519': key.privateKey };
  const spec = { guest: builtinGuest() };
  const a: TestRunner = h.start({ name: 'vmp-aaaaa', ip: '127.0.0.4', spec, podFiles });
  await h.waitReady(a);
  await sshGuest(a, 'echo on-disk > /root/f; echo in-memory > /dev/shm/m; sync');
  const b = h.start({
    name: 'vmp-bbbbb',
    ip: '127.0.0.5',
    spec,
    status: { cpus: (await a.client.status()).cpus.plugged },
    receiveMigration: true,
    podFiles,
  });
  await h.waitIncoming(b);
  await a.client.startMigration({ targetHost: '127.0.0.5', targetVcpus: 1, allowPostCopy: true });
  const seen = new Set<string>();
  const info = await h.migrationOutcome(a, { onStatus: (s) => seen.add(s) });
  expect(info.status).toBe('completed');
  expect([...seen]).toContain('postcopy-active');
  await h.waitReady(b, 60_000);
  expect((await sshGuest(b, 'cat /root/f /dev/shm/m')).stdout).toBe('on-disk\nin-memory\n');
});
