import { qemuBefore } from './qemu-version';

describe('qemuBefore', () => {
  it('compares major, then minor; an unknown version is older than any', () => {
    expect(qemuBefore({ major: 7, minor: 2 }, 9, 1)).toBe(true);
    expect(qemuBefore({ major: 9, minor: 0 }, 9, 1)).toBe(true);
    expect(qemuBefore({ major: 9, minor: 1 }, 9, 1)).toBe(false);
    expect(qemuBefore({ major: 10, minor: 0 }, 9, 1)).toBe(false);
    expect(qemuBefore({ major: 8, minor: 9 }, 9, 0)).toBe(true);
    expect(qemuBefore(undefined, 9, 0)).toBe(true);
  });
});
