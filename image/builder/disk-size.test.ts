import { autoSize, checkFits, emptyUsage, journalBytes, parseDiskSize } from './disk-size';

const MiB = 1024 ** 2;
const usage = (blockBytes: number, files = 1000, dirs = 100) => ({
  ...emptyUsage(),
  files,
  dirs,
  bytes: blockBytes,
  blockBytes,
});

describe('disk sizing', () => {
  it('parses upstream and Kubernetes sizes', () => {
    expect(parseDiskSize('1G')).toBe(1024 * MiB);
    expect(parseDiskSize('512M')).toBe(512 * MiB);
    expect(parseDiskSize('2Gi')).toBe(2048 * MiB);
    expect(parseDiskSize('1500Mi')).toBe(1500 * MiB);
    expect(() => parseDiskSize('1.5G')).toThrow(/invalid size/);
    expect(() => parseDiskSize('1M')).toThrow(/too small/);
  });
  it("follows mke2fs's journal sizes", () => {
    expect(journalBytes(64 * MiB)).toBe(4 * MiB);
    expect(journalBytes(512 * MiB)).toBe(16 * MiB);
    expect(journalBytes(1024 * MiB)).toBe(32 * MiB);
    expect(journalBytes(8192 * MiB)).toBe(64 * MiB);
  });
  it('rejects trees that do not fit, with the space they need', () => {
    const check = checkFits(usage(300 * MiB), 256 * MiB);
    expect(check.fits).toBe(false);
    expect(check.requiredBytes).toBeGreaterThan(300 * MiB);
    expect(checkFits(usage(100 * MiB), 256 * MiB).fits).toBe(true);
  });
  it('runs out of inodes before space with many tiny files', () => {
    expect(checkFits(usage(1 * MiB, 20_000), 256 * MiB)).toMatchObject({
      fits: false,
      reason: expect.stringMatching(/inodes/),
    });
  });
  it('picks a size with headroom, in 64 MiB steps, at least 256 MiB', () => {
    expect(autoSize(usage(10 * MiB))).toBe(256 * MiB);
    const size = autoSize(usage(400 * MiB));
    expect(size % (64 * MiB)).toBe(0);
    expect(size).toBeGreaterThanOrEqual(500 * MiB);
    expect(checkFits(usage(400 * MiB), size).fits).toBe(true);
  });
});
