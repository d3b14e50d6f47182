import { accelArgs, decideAccel, probeAccel } from './kvm-probe';

describe('decideAccel', () => {
  it('is KVM only when the kernel banner appeared', () => {
    expect(decideAccel({ bannerAfterMs: 120 })).toEqual({
      accel: 'kvm',
      reason: 'guest kernel printed its banner under KVM in 120 ms',
    });
    expect(decideAccel({ timedOutAfterMs: 4000 }).accel).toBe('tcg');
    expect(decideAccel({ timedOutAfterMs: 4000 }).reason).toContain('within 4000 ms');
  });

  it('explains an early exit with the end of the output', () => {
    const v = decideAccel({
      exited: { code: 1, output: 'noise\nqemu: error: failed to set MSR 0x48b to 0x0\nAborted\n' },
    });
    expect(v.accel).toBe('tcg');
    expect(v.reason).toContain('failed to set MSR');
  });
});

describe('accelArgs', () => {
  it('uses multi-threaded TCG as the fallback', () => {
    expect(accelArgs({ accel: 'tcg', reason: '' })).toEqual(['-accel', 'tcg,thread=multi', '-cpu', 'max']);
    expect(accelArgs({ accel: 'kvm', reason: '' })).toEqual(['-accel', 'kvm', '-cpu', 'max']);
  });
});

describe('probeAccel', () => {
  it('honours NEONVM_ACCEL without starting QEMU', async () => {
    await expect(probeAccel({ kernel: '/nonexistent', env: { NEONVM_ACCEL: 'tcg' } })).resolves.toEqual({
      accel: 'tcg',
      reason: 'forced by NEONVM_ACCEL=tcg',
    });
  });
});
