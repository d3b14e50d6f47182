import { guestBuildArch, hostQemuArch, needsEmulation, planGuestArch } from './guest-arch';

describe('planGuestArch', () => {
  it('follows spec.targetArchitecture', () => {
    expect(planGuestArch({ targetArchitecture: 'arm64' }, 'x64')).toBe('arm64');
    expect(planGuestArch({ targetArchitecture: 'amd64' }, 'arm64')).toBe('amd64');
  });
  it("defaults to the host's architecture", () => {
    expect(planGuestArch({}, 'x64')).toBe('amd64');
    expect(planGuestArch({}, 'arm64')).toBe('arm64');
    expect(() => hostQemuArch('s390x')).toThrow(/unsupported host architecture/);
  });
  it('maps to the guest build arch and tells when QEMU must emulate', () => {
    expect(guestBuildArch('arm64')).toBe('aarch64');
    expect(guestBuildArch('amd64')).toBe('x86_64');
    expect(needsEmulation('arm64', 'x64')).toBe(true);
    expect(needsEmulation('amd64', 'x64')).toBe(false);
  });
});
