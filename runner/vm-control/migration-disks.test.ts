import { diskMigrationPort, hasBlockMigration, writableDisks } from './migration-disks';

describe('disks of a migration without block migration (pure)', () => {
  it('QEMU 9.1 removed block migration; an unknown QEMU is taken as the 7.2 this runner has shipped', () => {
    expect(hasBlockMigration({ major: 7, minor: 2 })).toBe(true);
    expect(hasBlockMigration({ major: 9, minor: 0 })).toBe(true);
    expect(hasBlockMigration({ major: 9, minor: 1 })).toBe(false);
    expect(hasBlockMigration({ major: 10, minor: 0 })).toBe(false);
    expect(hasBlockMigration(undefined)).toBe(true);
  });

  it('carries every drive with a medium the guest can write, not the read-only ISOs or empty drives', () => {
    expect(
      writableDisks([
        { device: 'rootdisk', inserted: { ro: false, 'node-name': '#block1' } },
        { device: 'runtime', inserted: { ro: true, 'node-name': '#block2' } },
        { device: 'cdrom0' },
        { device: 'swapdisk', inserted: { ro: false, 'node-name': '#block3' } },
      ]),
    ).toEqual([
      { device: 'rootdisk', nodeName: '#block1' },
      { device: 'swapdisk', nodeName: '#block3' },
    ]);
  });

  it('puts NBD next to the migration port', () => {
    expect(diskMigrationPort(20187)).toBe(20188);
  });
});
