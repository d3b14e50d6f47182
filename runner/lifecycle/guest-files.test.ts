import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveGuestFiles } from './guest-files';

describe('resolveGuestFiles', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'neonvm-guest-files-'));
    writeFileSync(join(dir, 'vmlinux'), 'kernel');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('never boots another disk silently: no image disk and no -rootdisk-base fails naming the image', async () => {
    await expect(
      resolveGuestFiles({
        kernelPath: join(dir, 'vmlinux'),
        imagesDir: join(dir, 'images'),
        rootDiskImage: 'myimg:1',
        progress: () => undefined,
      }),
    ).rejects.toThrow(
      /^spec\.guest\.rootDisk\.image "myimg:1": no root disk at .*\/images\/rootdisk\.qcow2 \(the runner pod's init container copies the image's \/disk\.qcow2 there\); -rootdisk-base=<qcow2> or -rootdisk-base=builtin boots another disk$/,
    );
  });

  it('names a -rootdisk-base that does not exist', async () => {
    await expect(
      resolveGuestFiles({
        kernelPath: join(dir, 'vmlinux'),
        imagesDir: join(dir, 'images'),
        rootDiskBase: join(dir, 'missing.qcow2'),
        rootDiskImage: 'myimg:1',
        progress: () => undefined,
      }),
    ).rejects.toThrow(/^-rootdisk-base: .*missing\.qcow2 does not exist$/);
  });
});
