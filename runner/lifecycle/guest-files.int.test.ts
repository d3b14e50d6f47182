/**
 * The root disk the init container copied out of spec.guest.rootDisk.image goes through
 * resolveGuestFiles (the runner's inspect-host stage) and real `qemu-img`: a qcow2 naming a node file
 * as its backing file or a raw file is refused with the field and the image named; a standalone
 * qcow2 is used in place.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveGuestFiles } from './guest-files';

const IMAGE = 'tenant/app:1';

describe('resolveGuestFiles: the in-pod root disk (real qemu-img)', () => {
  let dir: string;
  let kernel: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'neonvm-guest-files-'));
    kernel = join(dir, 'vmlinuz'); // present, so the built-in guest is not needed
    writeFileSync(kernel, 'kernel');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const resolve = () =>
    resolveGuestFiles({
      kernelPath: kernel,
      imagesDir: dir,
      rootDiskImage: IMAGE,
      progress: () => undefined,
    });
  const qemuImg = (...args: string[]) => execFileSync('qemu-img', args, { stdio: 'pipe' });

  it('uses a standalone qcow2 in place, with its virtual size', async () => {
    qemuImg('create', '-q', '-f', 'qcow2', join(dir, 'rootdisk.qcow2'), '64M');
    const files = await resolve();
    expect(files.root).toEqual({
      path: join(dir, 'rootdisk.qcow2'),
      mode: 'in-place',
      virtualSizeBytes: 64n << 20n,
    });
  });

  it('refuses a qcow2 whose backing file is a node file', async () => {
    const secret = join(dir, 'node-secret');
    writeFileSync(secret, 'root:x:0:0\n');
    qemuImg('create', '-q', '-f', 'qcow2', '-F', 'raw', '-b', secret, join(dir, 'rootdisk.qcow2'), '64M');
    await expect(resolve()).rejects.toThrow(
      /^spec\.guest\.rootDisk\.image "tenant\/app:1": \/disk\.qcow2 names a backing file/,
    );
  });

  it('refuses a raw file posing as the disk (the format is forced, never probed)', async () => {
    writeFileSync(join(dir, 'rootdisk.qcow2'), Buffer.alloc(1 << 20));
    await expect(resolve()).rejects.toThrow(
      /^spec\.guest\.rootDisk\.image "tenant\/app:1": \/disk\.qcow2 cannot be read as qcow2/,
    );
  });
});
