import type { CustomObjectsApi } from '@kubernetes/client-node';
import { FakeClock, RetryLaterError } from '../controller-kit';
import type { Ipam } from './ipam';
import { IpamLoader, IpamUnavailableError } from './ipam-loader';

const source = { custom: {} as CustomObjectsApi, nad: { namespace: 'neonvm-system', name: 'overlay-ipam' } };

describe('IpamLoader', () => {
  it('without an IPAM NAD configured, VMs that need it get a retryable, named error', async () => {
    const loader = new IpamLoader({ clock: new FakeClock() });
    const err = await loader.get().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IpamUnavailableError);
    expect(err).toBeInstanceOf(RetryLaterError);
    expect((err as Error).message).toContain('NAD_IPAM_NAMESPACE/NAD_IPAM_NAME');
  });

  it('a missing NAD is retried after the retry period, and a later success is kept', async () => {
    const clock = new FakeClock();
    const ipam = {} as Ipam;
    let calls = 0;
    let present = false;
    const loader = new IpamLoader({
      source,
      clock,
      retryMs: 30_000,
      load: async () => {
        calls++;
        if (!present) throw new Error('cannot read the IPAM NetworkAttachmentDefinition (not found)');
        return ipam;
      },
    });
    await expect(loader.get()).rejects.toMatchObject({ name: 'IpamUnavailableError', retryAfterMs: 30_000 });
    await expect(loader.get()).rejects.toThrow('not found');
    expect(calls).toBe(1); // remembered, not re-read on every reconcile
    present = true;
    clock.advance(30_000);
    await expect(loader.get()).resolves.toBe(ipam);
    await expect(loader.get()).resolves.toBe(ipam);
    expect(calls).toBe(2);
  });
});
