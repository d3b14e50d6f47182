import { classifyEntry, normalizeEntryPath, resolveInRoot, SymlinkReader } from './layer-paths';
import { isOciError } from './errors';

function links(map: Record<string, string>): SymlinkReader {
  return { readlink: (p) => map[p] };
}

describe('normalizeEntryPath', () => {
  it.each([
    ['./usr/bin/', 'usr/bin'],
    ['/etc/passwd', 'etc/passwd'],
    ['a//b/./c', 'a/b/c'],
    ['./', ''],
  ])('%s → %s', (input, expected) => expect(normalizeEntryPath(input)).toBe(expected));

  it.each(['../etc/passwd', 'a/../../b', 'a/..', '..'])('refuses %s', (name) => {
    expect(() => normalizeEntryPath(name)).toThrow(/'\.\.' component/);
    try {
      normalizeEntryPath(name);
    } catch (e) {
      expect(isOciError(e, 'unsafe-path')).toBe(true);
    }
  });

  it('refuses NUL bytes', () => expect(() => normalizeEntryPath('a\0b')).toThrow(/NUL/));
});

describe('classifyEntry (whiteout rules)', () => {
  it('plain entries', () =>
    expect(classifyEntry('etc/passwd')).toEqual({ kind: 'entry', path: 'etc/passwd' }));
  it('.wh.<name> deletes <name> in the same directory', () => {
    expect(classifyEntry('etc/.wh.passwd')).toEqual({ kind: 'whiteout', target: 'etc/passwd' });
    expect(classifyEntry('.wh.opt')).toEqual({ kind: 'whiteout', target: 'opt' });
  });
  it('.wh..wh..opq makes its directory opaque', () => {
    expect(classifyEntry('var/cache/.wh..wh..opq')).toEqual({ kind: 'opaque', dir: 'var/cache' });
    expect(classifyEntry('.wh..wh..opq')).toEqual({ kind: 'opaque', dir: '' });
  });
  it('aufs bookkeeping entries are ignored', () => {
    expect(classifyEntry('.wh..wh.plnk/123.456')).toEqual({ kind: 'entry', path: '.wh..wh.plnk/123.456' });
    expect(classifyEntry('.wh..wh.aufs')).toEqual({ kind: 'ignore' });
  });
  it.each(['etc/.wh.', 'etc/.wh..', 'etc/.wh...'])('refuses the whiteout %s', (p) => {
    expect(() => classifyEntry(p)).toThrow(/invalid whiteout/);
  });
});

describe('resolveInRoot', () => {
  it('leaves paths without symlinks alone', () => {
    expect(resolveInRoot('usr/bin/env', links({}))).toBe('usr/bin/env');
  });
  it('follows relative symlinks in parent directories', () => {
    expect(resolveInRoot('bin/sh', links({ bin: 'usr/bin' }))).toBe('usr/bin/sh');
  });
  it('does not follow the last component unless asked', () => {
    const fs = links({ bin: 'usr/bin' });
    expect(resolveInRoot('bin', fs)).toBe('bin');
    expect(resolveInRoot('bin', fs, true)).toBe('usr/bin');
  });
  it('re-roots absolute symlink targets at the root', () => {
    expect(resolveInRoot('etc/passwd', links({ etc: '/host/etc' }))).toBe('host/etc/passwd');
  });
  it('clamps .. in targets at the root', () => {
    expect(resolveInRoot('a/x', links({ a: '../../../../tmp' }))).toBe('tmp/x');
    expect(resolveInRoot('d/e/f', links({ 'd/e': '../../../../../etc' }))).toBe('etc/f');
  });
  it('follows chains', () => {
    expect(resolveInRoot('a/f', links({ a: 'b', b: '/c', c: 'd/e' }))).toBe('d/e/f');
  });
  it('stops symlink loops', () => {
    expect(() => resolveInRoot('a/f', links({ a: 'b', b: 'a' }))).toThrow(/too many levels/);
  });
});
