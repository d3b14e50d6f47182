import { writeCpio } from './cpio';

/** Parses newc back (enough for the test): name → {mode, data}. */
function readCpio(buf: Buffer): Map<string, { mode: number; uid: number; data: string }> {
  const out = new Map<string, { mode: number; uid: number; data: string }>();
  let off = 0;
  const align = (n: number) => (n + 3) & ~3;
  for (;;) {
    expect(buf.toString('ascii', off, off + 6)).toBe('070701');
    const field = (i: number) => parseInt(buf.toString('ascii', off + 6 + i * 8, off + 14 + i * 8), 16);
    const mode = field(1);
    const uid = field(2);
    const size = field(6);
    const nameSize = field(11);
    const name = buf.toString('utf8', off + 110, off + 110 + nameSize - 1);
    off = align(off + 110 + nameSize);
    const data = buf.toString('utf8', off, off + size);
    off = align(off + size);
    if (name === 'TRAILER!!!') return out;
    out.set(name, { mode, uid, data });
  }
}

describe('writeCpio', () => {
  it('round-trips dirs, files and symlinks with 4-byte alignment', () => {
    const buf = writeCpio([
      { kind: 'dir', path: 'bin' },
      { kind: 'file', path: '/init', data: Buffer.from('#!/bin/sh\n'), mode: 0o755 },
      { kind: 'symlink', path: 'bin/sh', target: 'busybox' },
      { kind: 'file', path: 'odd', data: Buffer.from('abcde') },
      { kind: 'chardev', path: 'console', major: 5, minor: 1 },
    ]);
    const entries = readCpio(buf);
    expect(entries.get('bin')?.mode).toBe(0o040755);
    expect(entries.get('init')).toEqual({ mode: 0o100755, uid: 0, data: '#!/bin/sh\n' });
    expect(entries.get('bin/sh')).toEqual({ mode: 0o120777, uid: 0, data: 'busybox' });
    expect(entries.get('odd')?.data).toBe('abcde');
    expect(entries.get('console')?.mode).toBe(0o020600);
    expect(buf.length % 4).toBe(0);
  });

  it('is deterministic', () => {
    const e = [{ kind: 'file' as const, path: 'a', data: Buffer.from('x') }];
    expect(writeCpio(e).equals(writeCpio(e))).toBe(true);
  });
});
