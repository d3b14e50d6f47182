import { realNodeSkipReason } from './real-node-suite';

describe('real-node suites: run, wait for the toolchain build, or skip saying why', () => {
  it('runs as root when the toolchain is built, or waits for a running build', () => {
    expect(realNodeSkipReason(true, 'built', true)).toBeUndefined();
    expect(realNodeSkipReason(true, 'building', false)).toBeUndefined();
  });

  it('skips with the reason otherwise', () => {
    expect(realNodeSkipReason(false, 'built', false)).toMatch(/needs root/);
    expect(realNodeSkipReason(true, 'missing', false)).toMatch(/scripts\/build-node-toolchain\.sh/);
    expect(realNodeSkipReason(true, 'building', true)).toMatch(
      /did not finish within the test run's time budget/,
    );
  });
});
