/**
 * `buildVmImage` end to end: an OCI layout written in the test (busybox-static, an entrypoint
 * script, Env, WorkingDir, User, a whiteout) becomes a qcow2 in a temp image store, registered under
 * its reference, and an OCI image for registries whose /disk.qcow2 and busybox tools work as the
 * runner pod's init container. Bad inputs fail with nothing left in the store or the output paths.
 * Booting the built image (entrypoint, User, Env, spec command and file, shutdown hook) goes through
 * `neonvm run` in test/e2e/neonvm-run-image.int.test.ts, as users boot it.
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ImageStore } from '../../cluster/image-store';
import { ensureGuestArtifacts, GuestArtifacts } from '../../guest';
import { describeIf } from '../../host/testing';
import { blobRelPath, isOciError, openImage, unpackImage, writeImageLayout } from '../oci';
import { busyboxImageInput, writeBusyboxImage } from '../testing/busybox-image';
import { buildVmImage } from './build';
import { parseImageSpec } from './spec-file';
import { VM_DISK_FILE, vmDisksRoot } from './vm-disk-store';

const amd64 = { os: 'linux', architecture: 'amd64' };
let work: string;
let store: ImageStore;
// Builds take seconds each and far longer on a loaded machine (jest's default is 5 s).
jest.setTimeout(300_000);

let artifacts: GuestArtifacts;
let busybox: string;
const log: string[] = [];
// Builds take seconds each and far longer on a loaded machine (jest's default is 5 s).
jest.setTimeout(300_000);

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'neonvm-image-build-'));
  store = new ImageStore(join(work, 'store'));
  artifacts = await ensureGuestArtifacts({ arch: 'amd64' });
  busybox = join(artifacts.rootfsDir, 'neonvm/bin/busybox');
  await writeBusyboxImage(join(work, 'layout'), busybox, amd64);
}, 600_000);

afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  console.log(log.join('\n'));
});

/** Nothing partial anywhere: only complete disk dirs in the store, no build or commit dirs. */
function storeLeftovers(): string[] {
  const root = vmDisksRoot(store);
  return existsSync(root) ? readdirSync(root).filter((n) => n.startsWith('.')) : [];
}

describe('an OCI image becomes a VM root disk image', () => {
  let disk: string;

  beforeAll(async () => {
    const spec = parseImageSpec(
      stringify({
        commands: [{ name: 'hello', user: 'app', sysvInitAction: 'once', shell: 'echo hello' }],
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
    expect(result.workloadUser).toBe('app');
    log.push(
      `minimal image: build ${result.seconds}s, qcow2 ${result.qcow2Bytes} bytes, fs ${result.fsBytes}`,
    );
  }, 600_000);

  it('registers the disk in the image store under the reference', () => {
    const manifest = store.resolve('neonvm-test/busybox-vm:latest');
    expect(manifest?.files).toBeDefined();
    expect(existsSync(join(manifest!.files!, VM_DISK_FILE))).toBe(true);
    expect(join(manifest!.files!, VM_DISK_FILE)).toBe(disk);
    expect(storeLeftovers()).toEqual([]);
  });

  it('writes an OCI layout holding /disk.qcow2 and the init container tools', async () => {
    const img = await openImage(join(work, 'out-oci'));
    const tree = join(work, 'out-oci-tree');
    try {
      expect(img.layers).toHaveLength(2);
      await unpackImage(img, tree);
    } finally {
      await img.close();
    }
    expect(readFileSync(join(tree, VM_DISK_FILE)).equals(readFileSync(disk))).toBe(true);
    for (const tool of ['bin/sh', 'bin/cp']) expect(readlinkSync(join(tree, tool))).toBe('/bin/busybox');
  });

  describeIf(process.getuid?.() === 0, 'needs root (chroot as uid 36)')(
    'as the runner pod init container',
    () => {
      it("runs the init step with the image's own tools, unprivileged: /disk.qcow2 copied as qemu:kvm", async () => {
        const tree = join(work, 'out-oci-tree');
        execFileSync('sh', ['-c', 'mkdir -p "$1/vm/images" && chown 36:34 "$1/vm/images"', 'sh', tree]);
        execFileSync('chroot', [
          '--userspec=36:34',
          tree,
          '/bin/sh',
          '-c',
          'cp /disk.qcow2 /vm/images/rootdisk.qcow2',
        ]);
        const st = statSync(join(tree, 'vm/images/rootdisk.qcow2'));
        expect([st.uid, st.gid]).toEqual([36, 34]);
        expect(readFileSync(join(tree, 'vm/images/rootdisk.qcow2')).equals(readFileSync(disk))).toBe(true);
      });
    },
  );
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
