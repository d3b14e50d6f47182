import { guestCustody, mayHoldGuest } from './guest-custody';

describe('guestCustody', () => {
  // [qemuStatus, migration status, custody, may hold the only running guest]
  const table: Array<[string, string, string, boolean]> = [
    ['running', 'none', 'running', true],
    ['running', 'active', 'running', true], // a precopy source still streaming
    ['running', 'completed', 'running', true], // a target after the stream
    ['running', 'failed', 'running', true], // a source resumed after a failed precopy
    ['inmigrate', 'none', 'incoming', false], // target before the stream
    ['inmigrate', 'active', 'incoming', false],
    ['finish-migrate', 'device', 'paused', true], // switch-over: the source still holds all of it
    ['finish-migrate', 'active', 'paused', true],
    // QEMU 7.2 says `completed` before it leaves finish-migrate: the target has confirmed everything.
    ['finish-migrate', 'completed', 'handed-off', false],
    ['postmigrate', 'completed', 'handed-off', false],
    ['postmigrate', 'failed', 'paused', true],
    ['postmigrate', 'postcopy-active', 'postcopy', true],
    ['running', 'postcopy-active', 'postcopy', true], // target running while pages still come
    ['postmigrate', 'postcopy-paused', 'postcopy', true], // its peer died: the guest is lost
    ['paused', 'none', 'paused', true],
    ['shutdown', 'none', 'stopped', false],
    ['guest-panicked', 'none', 'stopped', false],
    ['internal-error', 'completed', 'stopped', false],
  ];
  it.each(table)('QEMU %s with migration %s → %s', (qemuStatus, migrationStatus, custody, holds) => {
    const c = guestCustody({ qemuStatus, migrationStatus });
    expect(c).toBe(custody);
    expect(mayHoldGuest(c)).toBe(holds);
  });

  it('is postcopy after a post-copy migration failed, whatever QEMU says of its guest', () => {
    // QEMU 10 restarts a source whose post-copy failed at its completion: running, migration failed.
    for (const [qemuStatus, migrationStatus] of [
      ['running', 'failed'],
      ['paused', 'failed'],
      ['postmigrate', 'cancelled'],
    ])
      expect(guestCustody({ qemuStatus, migrationStatus, staleAfterPostcopy: true })).toBe('postcopy');
    // Without the runner's word (older runners), the run state decides as before.
    expect(guestCustody({ qemuStatus: 'running', migrationStatus: 'failed' })).toBe('running');
  });
});
