import { canonicalLayerEntries, LayerEntry } from './layer-entries';

describe('canonicalLayerEntries', () => {
  it('sorts byte-wise and adds missing parent directories', () => {
    const out = canonicalLayerEntries([
      { kind: 'file', path: 'b/z', content: '' },
      { kind: 'file', path: './a/B', content: '' },
      { kind: 'file', path: 'a/a', content: '' },
    ]);
    expect(out.map((e) => `${e.kind}:${e.path}`)).toEqual([
      'dir:a',
      'file:a/B',
      'file:a/a',
      'dir:b',
      'file:b/z',
    ]);
  });
  it('is independent of input order', () => {
    const entries: LayerEntry[] = [
      { kind: 'dir', path: 'x', mode: 0o700 },
      { kind: 'symlink', path: 'x/l', target: '/etc' },
      { kind: 'file', path: 'x/f', content: 'f' },
    ];
    expect(canonicalLayerEntries([...entries].reverse())).toEqual(canonicalLayerEntries(entries));
  });
  it('rejects duplicates, file/dir clashes, dangling hard links and unsafe names', () => {
    expect(() =>
      canonicalLayerEntries([
        { kind: 'dir', path: 'a' },
        { kind: 'dir', path: 'a/' },
      ]),
    ).toThrow(/duplicate/);
    expect(() =>
      canonicalLayerEntries([
        { kind: 'file', path: 'a', content: '' },
        { kind: 'file', path: 'a/b', content: '' },
      ]),
    ).toThrow(/both a file and a directory/);
    expect(() => canonicalLayerEntries([{ kind: 'hardlink', path: 'a', target: 'b' }])).toThrow(
      /not an earlier entry/,
    );
    expect(() => canonicalLayerEntries([{ kind: 'file', path: '../x', content: '' }])).toThrow(/'\.\.'/);
  });
});
