import { CONSOLE_COMMAND, exitCodeFromStatus, sshCommand, wantsCluster } from './cluster-exec';

describe('cluster exec for neonvm ssh/console', () => {
  it('reads the exit code from the remotecommand status', () => {
    expect(exitCodeFromStatus({ status: 'Success' })).toBe(0);
    expect(
      exitCodeFromStatus({
        status: 'Failure',
        reason: 'NonZeroExitCode',
        details: { causes: [{ reason: 'ExitCode', message: '7' }] },
      }),
    ).toBe(7);
    expect(exitCodeFromStatus({ status: 'Failure', message: 'exec: not found' })).toBe(1);
    expect(exitCodeFromStatus(undefined)).toBe(1);
  });

  it('builds the in-pod commands', () => {
    expect(sshCommand([])).toEqual(['ssh', '-t', 'guest-vm']);
    expect(sshCommand(['uname', '-a'])).toEqual(['ssh', 'guest-vm', 'uname', '-a']);
    expect(CONSOLE_COMMAND.join(' ')).toContain('screen');
    expect(wantsCluster({})).toBe(false);
    expect(wantsCluster({ namespace: 'x' })).toBe(true);
  });
});
