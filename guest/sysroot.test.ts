import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { archInfo } from './arch';
import { LibraryResolver } from './sysroot';

describe('LibraryResolver', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'neonvm-sysroot-test-'));
    const lib = join(root, 'lib/x86_64-linux-gnu');
    const usrLib = join(root, 'usr/lib/x86_64-linux-gnu');
    mkdirSync(lib, { recursive: true });
    mkdirSync(usrLib, { recursive: true });
    writeFileSync(join(lib, 'libz.so.1.2.13'), 'z');
    symlinkSync('libz.so.1.2.13', join(lib, 'libz.so.1')); // relative, as Debian ships them
    writeFileSync(join(usrLib, 'libgnutls.so.30.34.3'), 'g');
    // An absolute link must be followed inside the sysroot, not on the host.
    symlinkSync('/usr/lib/x86_64-linux-gnu/libgnutls.so.30.34.3', join(usrLib, 'libgnutls.so.30'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('follows relative and absolute symlinks within the sysroot', async () => {
    const r = new LibraryResolver(root, archInfo('amd64'));
    await expect(r.find('libz.so.1')).resolves.toBe(join(root, 'lib/x86_64-linux-gnu/libz.so.1.2.13'));
    await expect(r.find('libgnutls.so.30')).resolves.toBe(
      join(root, 'usr/lib/x86_64-linux-gnu/libgnutls.so.30.34.3'),
    );
  });

  it('names the missing library', async () => {
    await expect(new LibraryResolver(root, archInfo('amd64')).find('libnope.so.9')).rejects.toThrow(
      /libnope\.so\.9 not found/,
    );
  });
});
