import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listTree, rootOwnershipCommands } from './ext4-ownership';

describe('rootOwnershipCommands', () => {
  it('sets uid and gid 0 per path', () => {
    expect(rootOwnershipCommands(['/', '/etc/shadow'])).toBe(
      'set_inode_field / uid 0\nset_inode_field / gid 0\n' +
        'set_inode_field /etc/shadow uid 0\nset_inode_field /etc/shadow gid 0\n',
    );
  });

  it('refuses paths debugfs would split', () => {
    expect(() => rootOwnershipCommands(['/a b'])).toThrow(/not representable/);
  });
});

describe('listTree', () => {
  it('lists files, dirs and symlinks without following links', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'neonvm-tree-test-'));
    try {
      mkdirSync(join(dir, 'neonvm/bin'), { recursive: true });
      writeFileSync(join(dir, 'neonvm/bin/busybox'), '');
      symlinkSync('neonvm/bin', join(dir, 'bin'));
      expect((await listTree(dir)).sort()).toEqual(['/bin', '/neonvm', '/neonvm/bin', '/neonvm/bin/busybox']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
