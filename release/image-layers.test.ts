import { plannedBytes } from './image-layers';

describe('plannedBytes', () => {
  it('counts file contents once: hard links, links and directories are free', () => {
    expect(
      plannedBytes([
        {
          name: 'a',
          entries: [
            { kind: 'dir', path: 'd' },
            { kind: 'file', path: 'd/f', content: 'héllo' },
            { kind: 'host-file', path: 'd/k', source: '/x', size: 1000 },
            { kind: 'hardlink', path: 'd/k2', target: 'd/k' },
            { kind: 'symlink', path: 'd/s', target: 'f' },
          ],
        },
        { name: 'b', entries: [{ kind: 'file', path: 'g', content: Buffer.alloc(10) }] },
      ]),
    ).toBe(6 + 1000 + 10);
  });
});
