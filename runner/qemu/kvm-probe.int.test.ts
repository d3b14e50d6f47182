import { ensureGuestArtifacts } from '../../guest';
import { probeAccel } from './kvm-probe';
import { liveQemuPids } from './qemu-process';

describe('probeAccel (real QEMU)', () => {
  it('returns a verdict with a reason, caches it and leaves no QEMU behind', async () => {
    const { kernel } = await ensureGuestArtifacts();
    const started = Date.now();
    const v = await probeAccel({ kernel, env: {} });
    console.log(`accel probe: ${v.accel} (${v.reason}) in ${Date.now() - started} ms`);
    expect(['kvm', 'tcg']).toContain(v.accel);
    expect(v.reason).not.toBe('');
    expect(await probeAccel({ kernel, env: {} })).toBe(v);
    expect(liveQemuPids()).toEqual([]);
  }, 120_000);
});
