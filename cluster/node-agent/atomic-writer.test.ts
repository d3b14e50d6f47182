import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { userVisibleEntries, validatePayloadPath, VolumePayload, writeAtomically } from './atomic-writer';

const payload = (files: Record<string, string>): VolumePayload =>
  Object.fromEntries(Object.entries(files).map(([k, v]) => [k, { data: Buffer.from(v) }]));

describe('writeAtomically', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'atomic-writer-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the ..data link, a timestamped generation and per-entry symlinks', () => {
    expect(writeAtomically(dir, payload({ 'a.conf': 'A', 'sub/b': 'B' }))).toBe(true);
    const entries = readdirSync(dir).sort();
    expect(entries.filter((e) => !e.startsWith('..'))).toEqual(['a.conf', 'sub']);
    expect(readlinkSync(join(dir, '..data'))).toMatch(/^\.\.\d{4}_\d\d_\d\d_/);
    expect(readlinkSync(join(dir, 'a.conf'))).toBe('..data/a.conf');
    expect(lstatSync(join(dir, 'sub')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(dir, 'sub/b'), 'utf8')).toBe('B');
  });

  it('switches generations on change, drops removed entries and the old generation', () => {
    writeAtomically(dir, payload({ a: '1', b: '2' }));
    const first = readlinkSync(join(dir, '..data'));
    expect(writeAtomically(dir, payload({ a: '3' }))).toBe(true);
    expect(readFileSync(join(dir, 'a'), 'utf8')).toBe('3');
    expect(readdirSync(dir)).not.toContain('b');
    expect(readdirSync(dir)).not.toContain(first);
    expect(readdirSync(dir).filter((e) => e.startsWith('..2'))).toHaveLength(1);
  });

  it('does nothing when the content is unchanged', () => {
    writeAtomically(dir, payload({ a: '1' }));
    const generation = readlinkSync(join(dir, '..data'));
    expect(writeAtomically(dir, payload({ a: '1' }))).toBe(false);
    expect(readlinkSync(join(dir, '..data'))).toBe(generation);
  });
});

describe('payload paths', () => {
  it.each(['/etc/passwd', '../x', 'a/../../x', '..data', 'a/..hidden'])('rejects %s', (path) => {
    expect(() => validatePayloadPath(path)).toThrow('invalid volume file path');
  });

  it('lists top-level entries once', () => {
    expect(userVisibleEntries(payload({ 'x/1': '', 'x/2': '', y: '' }))).toEqual(['x', 'y']);
  });
});
