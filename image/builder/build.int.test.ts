/**
 * `buildVmImage` end to end: an OCI layout written in the test (busybox-static, an entrypoint
 * script, Env, WorkingDir, User, a whiteout) becomes a qcow2 in a temp image store, which boots
 * with the guest kernel and initramfs and runs the image's entrypoint with its environment; the
 * image spec's command, file and shutdown hook take effect. Bad inputs fail with nothing left in
 * the store or the output paths.
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ImageStore } from '../../cluster/image-store';
import { ensureGuestArtifacts, GuestArtifacts } from '../../guest';
import { bootGuestVm, GuestVm, waitGuestReady } from '../../runner/testing/guest-vm';
import { AccelVerdict, probeAccel } from '../../runner/qemu/kvm-probe';
import { killAllQemu, liveQemuPids } from '../../runner/qemu/qemu-process';
import { blobRelPath, isOciError, openImage, unpackImage, writeImageLayout } from '../oci';
import { busyboxImageInput, TEST_WORKLOAD_MARKER, writeBusyboxImage } from '../testing/busybox-image';
import { buildVmImage } from './build';
import { parseImageSpec } from './spec-file';
import { VM_DISK_FILE, vmDisksRoot } from './vm-disk-store';

const amd64 = { os: 'linux', architecture: 'amd64' };
let work: string;
let store: ImageStore;
let artifacts: GuestArtifacts;
let accel: AccelVerdict;
let busybox: string;
const vms: GuestVm[] = [];
const log: string[] = [];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'neonvm-image-build-'));
  store = new ImageStore(join(work, 'store'));
  artifacts = await ensureGuestArtifacts({ arch: 'amd64' });
  accel = await probeAccel({ kernel: artifacts.kernel });
  busybox = join(artifacts.rootfsDir, 'neonvm/bin/busybox');
  await writeBusyboxImage(join(work, 'layout'), busybox, amd64);
}, 600_000);

afterAll(async () => {
  await Promise.all(vms.map((vm) => vm.stop()));
  await killAllQemu();
  expect(liveQemuPids()).toEqual([]);
  rmSync(work, { recursive: true, force: true });
  console.log(log.join('\n'));
});

/** Nothing partial anywhere: only complete disk dirs in the store, no build or commit dirs. */
function storeLeftovers(): string[] {
  const root = vmDisksRoot(store);
  return existsSync(root) ? readdirSync(root).filter((n) => n.startsWith('.')) : [];
}

describe('an OCI image becomes a bootable VM root disk', () => {
  let vm: GuestVm;
  let disk: string;

  beforeAll(async () => {
    const spec = parseImageSpec(
      stringify({
        commands: [
          {
            name: 'hello',
            user: 'app',
            sysvInitAction: 'once',
            shell: 'echo "spec-command: uid=$(id -u) file=$(cat /etc/from-spec)"',
          },
        ],
        files: [{ filename: '/etc/from-spec', content: 'written by the spec' }],
        shutdownHook: 'echo spec-shutdown-hook ran',
      }),
      'spec.yaml',
    );
    const result = await buildVmImage({
      source: join(work, 'layout'),
      tags: ['neonvm-test/busybox-vm:latest'],
      spec,
      store,
      ociLayout: join(work, 'out-oci'),
      progress: (line) => log.push(line),
    });
    disk = result.disk!;
    log.push(
      `minimal image: build ${result.seconds}s, qcow2 ${result.qcow2Bytes} bytes, fs ${result.fsBytes}`,
    );
    vm = await bootGuestVm({
      name: 'busybox-vm',
      guest: artifacts,
      rootDisk: disk,
      accel: accel.accel,
      spec: {
        guest: {
          cpus: { min: 1, max: 1, use: 1 },
          memorySlotSize: '256Mi',
          memorySlots: { min: 1, max: 1, use: 1 },
          rootDisk: { image: 'neonvm-test/busybox-vm:latest' },
        },
      },
    });
    vms.push(vm);
    log.push(`minimal image: boot to ready ${await waitGuestReady(vm, 90_000)} ms (${accel.accel})`);
  }, 600_000);

  it('registers the disk in the image store under the reference', () => {
    const manifest = store.resolve('neonvm-test/busybox-vm:latest');
    expect(manifest?.files).toBeDefined();
    expect(existsSync(join(manifest!.files!, VM_DISK_FILE))).toBe(true);
    expect(join(manifest!.files!, VM_DISK_FILE)).toBe(disk);
    expect(storeLeftovers()).toEqual([]);
  });

  it("runs the image's entrypoint and cmd as its User, in its WorkingDir, with its Env", async () => {
    await vm.waitForConsole(
      new RegExp(
        `${TEST_WORKLOAD_MARKER} uid=1000 pwd=/app greeting=hello from the image argc=2 args=first second arg`,
      ),
      60_000,
    );
    expect(vm.console()).not.toMatch(/whiteout not applied/);
  }, 90_000);

  it("runs the spec's command as its user and installs its files", async () => {
    await vm.waitForConsole(/spec-command: uid=1000 file=written by the spec/, 30_000);
  }, 60_000);

  it('runs the shutdown hook when the guest powers off', async () => {
    // The agent handles the ACPI power button once its input device is open: press until it acts.
    for (let i = 0; i < 12 && !vm.console().includes('spec-shutdown-hook ran'); i++) {
      await vm.qmp.execute('system_powerdown').catch(() => undefined);
      await vm.waitForConsole(/spec-shutdown-hook ran/, 5_000).catch(() => undefined);
    }
    expect(vm.console()).toMatch(/spec-shutdown-hook ran/);
  }, 90_000);

  it('writes an OCI layout holding /disk.qcow2 and the init container userland (sh, cp)', async () => {
    const index = JSON.parse(readFileSync(join(work, 'out-oci/index.json'), 'utf8')) as {
      manifests: Array<{ digest: string }>;
    };
    const manifest = JSON.parse(
      readFileSync(join(work, 'out-oci', blobRelPath(index.manifests[0].digest)), 'utf8'),
    ) as {
      layers: unknown[];
    };
    expect(manifest.layers).toHaveLength(2);
    const tree = join(work, 'out-oci-tree');
    await unpackImage(await openImage(join(work, 'out-oci')), tree);
    expect(existsSync(join(tree, 'disk.qcow2'))).toBe(true);
    for (const tool of ['bin/sh', 'bin/cp']) expect(readlinkSync(join(tree, tool))).toBe('/bin/busybox');
  });
});

describe('plain root filesystems', () => {
  let tree: string;
  beforeAll(async () => {
    tree = join(work, 'tree');
    const img = await openImage(join(work, 'layout'));
    await unpackImage(img, tree);
  });

  it('builds from a directory without touching it (hard-linked copy)', async () => {
    const before = readFileSync(join(tree, 'etc/passwd'), 'utf8');
    const r = await buildVmImage({
      source: tree,
      outputFile: join(work, 'dir.qcow2'),
      store,
      progress: () => undefined,
    });
    expect(r.sourceKind).toBe('rootfs-dir');
    expect(existsSync(join(work, 'dir.qcow2'))).toBe(true);
    expect(existsSync(join(tree, 'neonvm'))).toBe(false);
    expect(existsSync(join(tree, 'etc/inittab'))).toBe(false);
    expect(readFileSync(join(tree, 'etc/passwd'), 'utf8')).toBe(before);
    expect(storeLeftovers()).toEqual([]);
  });

  it('builds from a tarball', async () => {
    execFileSync('tar', ['-C', tree, '-czf', join(work, 'tree.tar.gz'), '.']);
    const r = await buildVmImage({
      source: join(work, 'tree.tar.gz'),
      outputFile: join(work, 'tar.qcow2'),
      store,
      progress: () => undefined,
    });
    expect(r.sourceKind).toBe('rootfs-tarball');
    expect(r.usage.files).toBeGreaterThan(4);
  });
});

describe('bad input fails cleanly', () => {
  async function expectFailure(p: Promise<unknown>, match: RegExp, code?: string): Promise<void> {
    const e = await p.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(Error);
    expect((e as Error).message).toMatch(match);
    if (code) expect(isOciError(e) && e.code).toBe(code);
    expect(storeLeftovers()).toEqual([]);
    expect(store.resolve('neonvm-test/bad:latest')).toBeUndefined();
    expect(existsSync(join(work, 'bad-out.qcow2'))).toBe(false);
    expect(existsSync(join(work, 'bad-oci'))).toBe(false);
  }
  const bad = (source: string, extra: Record<string, unknown> = {}) =>
    buildVmImage({
      source,
      tags: ['neonvm-test/bad:latest'],
      store,
      outputFile: join(work, 'bad-out.qcow2'),
      ociLayout: join(work, 'bad-oci'),
      progress: () => undefined,
      ...extra,
    });

  it('missing layout', async () => {
    await expectFailure(bad(join(work, 'does-not-exist')), /does not exist/, 'missing-layout');
  });

  it('corrupt layer', async () => {
    const w = await writeBusyboxImage(join(work, 'corrupt'), busybox, amd64);
    const blob = join(work, 'corrupt', blobRelPath(w.images[0].layers[0].digest));
    const bytes = readFileSync(blob);
    bytes[1000] ^= 0xff;
    writeFileSync(blob, bytes);
    await expectFailure(bad(join(work, 'corrupt')), /hashes to/, 'digest-mismatch');
  });

  it('unsupported architecture', async () => {
    await writeImageLayout(join(work, 's390x'), [
      busyboxImageInput(busybox, { os: 'linux', architecture: 's390x' }),
    ]);
    await expectFailure(
      bad(join(work, 's390x')),
      /linux\/s390x is not supported/,
      'unsupported-architecture',
    );
  });

  it('image bigger than the requested disk', async () => {
    await expectFailure(
      bad(join(work, 'layout'), { sizeBytes: 16 * 1024 * 1024 }),
      /needs about .* pass a larger --size/,
    );
  });
});
