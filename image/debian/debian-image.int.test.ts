/**
 * The Debian 12 guest image (`neondatabase/vm-debian:11`): built or found cached (debootstrap needs
 * root and the Debian mirror), then booted; SSH with a key from the ssh-authorized-keys ISO works
 * through a user-mode host forward, Debian's own chronyc talks to the guest's chronyd, and the root
 * filesystem was grown to the disk at first boot.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ImageStore } from '../../cluster/image-store';
import { ensureGuestArtifacts } from '../../guest';
import { bootGuestVm, GuestVm, sshInGuest, waitGuestReady } from '../../runner/testing/guest-vm';
import { probeAccel } from '../../runner/qemu/kvm-probe';
import { killAllQemu, liveQemuPids } from '../../runner/qemu/qemu-process';
import { rootDiskOf } from '../builder/root-disk-image';
import { DEBIAN_IMAGE_REFS, ensureDebianImage } from './debian-image';

const execFileP = promisify(execFile);
let vm: GuestVm | undefined;
let sshDir: string;
const log: string[] = [];

beforeAll(async () => {
  sshDir = mkdtempSync(join(tmpdir(), 'neonvm-debian-ssh-'));
  await execFileP('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(sshDir, 'id_ed25519')]);
  await ensureDebianImage({ progress: (l) => log.push(l) });
  const artifacts = await ensureGuestArtifacts({ arch: 'amd64' });
  const spec = {
    guest: {
      cpus: { min: 1, max: 2, use: 1 },
      memorySlotSize: '512Mi',
      memorySlots: { min: 1, max: 1, use: 1 },
      // Grown from the image's size before boot; the guest's sysinit runs resize2fs.
      rootDisk: { image: DEBIAN_IMAGE_REFS[0], size: '2Gi' },
    },
  };
  vm = await bootGuestVm({
    name: 'vm-debian',
    guest: artifacts,
    // The disk the spec names, looked up in the image store as `neonvm run` does.
    rootDisk: rootDiskOf({ spec }, new ImageStore()),
    accel: (await probeAccel({ kernel: artifacts.kernel })).accel,
    sshPublicKey: readFileSync(join(sshDir, 'id_ed25519.pub'), 'utf8'),
    spec,
  });
  log.push(`debian image: boot to ready ${await waitGuestReady(vm, 120_000)} ms`);
}, 900_000);

afterAll(async () => {
  await vm?.stop();
  await killAllQemu();
  expect(liveQemuPids()).toEqual([]);
  rmSync(sshDir, { recursive: true, force: true });
  console.log(log.join('\n'));
});

const ssh = (command: string) => sshInGuest(vm!, join(sshDir, 'id_ed25519'), command, 60_000);

it('is registered under both references', () => {
  const store = new ImageStore();
  const dirs = DEBIAN_IMAGE_REFS.map((ref) => store.resolve(ref)?.files);
  expect(dirs[0]).toBeDefined();
  expect(dirs[1]).toBe(dirs[0]);
});

it('accepts SSH as root with the key, into Debian 12', async () => {
  const started = Date.now();
  const out = await ssh('id -u; cut -d. -f1 /etc/debian_version; readlink /proc/1/exe');
  log.push(`debian image: first ssh round trip ${Date.now() - started} ms`);
  expect(out.split('\n').slice(0, 3)).toEqual(['0', '12', '/neonvm/bin/busybox']);
}, 90_000);

it("answers `chronyc tracking` (Debian's chronyc, the guest's chronyd)", async () => {
  const out = await ssh('/usr/bin/chronyc tracking');
  expect(out).toMatch(/Reference ID/);
  expect(out).toMatch(/Leap status/);
}, 60_000);

it('grew the root filesystem to the disk at first boot (resize2fs)', async () => {
  const df = (await ssh('df -k / | tail -1')).split(/\s+/);
  expect(Number(df[1])).toBeGreaterThan(1_800_000);
}, 60_000);

it('has a working apt', async () => {
  expect(await ssh('apt-get --version | head -1')).toMatch(/^apt 2\.6/);
}, 60_000);
