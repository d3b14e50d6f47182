import { needsEmulation, planGuestArch } from './guest-arch';

describe('planGuestArch', () => {
  it('follows spec.targetArchitecture', () => {
    expect(planGuestArch({ targetArchitecture: 'arm64' }, 'x64')).toBe('arm64');
    expect(planGuestArch({ targetArchitecture: 'amd64' }, 'arm64')).toBe('amd64');
  });
  it("defaults to the host's architecture", () => {
    expect(planGuestArch({}, 'x64')).toBe('amd64');
    expect(planGuestArch({}, 'arm64')).toBe('arm64');
    expect(() => planGuestArch({}, 's390x')).toThrow(/unsupported host architecture/);
  });
  it('tells when QEMU must emulate', () => {
    expect(needsEmulation('arm64', 'x64')).toBe(true);
    expect(needsEmulation('amd64', 'x64')).toBe(false);
  });
});
