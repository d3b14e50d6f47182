import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kernelHz } from './artifacts';

describe('kernelHz', () => {
  it('reads the build manifest next to the kernel, or next to the file a symlink names', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kernel-hz-'));
    try {
      const built = join(dir, 'guest-abc-amd64');
      mkdirSync(built);
      writeFileSync(join(built, 'vmlinux'), '');
      writeFileSync(join(built, 'manifest.json'), JSON.stringify({ kernelHz: 250 }));
      expect(kernelHz(join(built, 'vmlinux'))).toBe(250);
      mkdirSync(join(dir, 'pod'));
      symlinkSync(join(built, 'vmlinux'), join(dir, 'pod', 'vmlinux'));
      expect(kernelHz(join(dir, 'pod', 'vmlinux'))).toBe(250);
      writeFileSync(join(dir, 'other-kernel'), '');
      expect(kernelHz(join(dir, 'other-kernel'))).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
