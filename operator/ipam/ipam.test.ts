import type { IpPool } from '../../crds';
import { type CustomResourceClient } from '../../kube';
import { OperatorMetrics } from '../controller-kit';
import { Ipam } from './ipam';
import { parseIpamConfig } from './ipam-config';

/** An in-memory IPPool API with resourceVersion checks; `conflicts` makes the next N replaces fail. */
class FakePools {
  readonly store = new Map<string, IpPool>();
  conflicts = 0;
  private rv = 1;

  async get(_ns: string, name: string): Promise<IpPool> {
    const p = this.store.get(name);
    if (!p) throw Object.assign(new Error('not found'), { code: 404 });
    return structuredClone(p);
  }

  async create(_ns: string, body: IpPool): Promise<IpPool> {
    const name = body.metadata?.name ?? '';
    if (this.store.has(name))
      throw Object.assign(new Error('AlreadyExists'), {
        code: 409,
        body: '{"reason":"AlreadyExists","message":"already exists"}',
      });
    this.store.set(name, { ...body, metadata: { ...body.metadata, resourceVersion: String(this.rv++) } });
    return this.get('', name);
  }

  async replace(_ns: string, name: string, body: IpPool): Promise<IpPool> {
    const current = this.store.get(name);
    if (this.conflicts > 0 || current?.metadata?.resourceVersion !== body.metadata?.resourceVersion) {
      this.conflicts = Math.max(0, this.conflicts - 1);
      // Someone else wrote: bump the version.
      if (current) current.metadata = { ...current.metadata, resourceVersion: String(this.rv++) };
      throw Object.assign(new Error('Conflict'), {
        code: 409,
        body: '{"reason":"Conflict","message":"the object has been modified"}',
      });
    }
    this.store.set(name, { ...body, metadata: { ...body.metadata, resourceVersion: String(this.rv++) } });
    return this.get('', name);
  }
}

const config = parseIpamConfig(
  JSON.stringify({
    ipam: {
      range: '10.100.123.0/24',
      range_start: '10.100.123.1',
      range_end: '10.100.123.254',
      network_name: 'neonvm',
    },
  }),
);

async function histogramCount(metrics: OperatorMetrics, action: string, outcome: string): Promise<number> {
  const m = await metrics.ipamDuration.get();
  return (
    m.values.find(
      (v) =>
        v.metricName === 'ipam_request_duration_seconds_count' &&
        v.labels.action === action &&
        v.labels.outcome === outcome,
    )?.value ?? 0
  );
}

describe('Ipam over IPPool objects (upstream §8.2 IPAM case)', () => {
  it('acquires, reuses, releases and reports metrics', async () => {
    const pools = new FakePools();
    const metrics = new OperatorMetrics();
    const ipam = new Ipam({
      pools: pools as unknown as CustomResourceClient<IpPool>,
      namespace: 'neonvm-system',
      config,
      metrics,
    });
    expect(await ipam.acquire('default/vm')).toEqual({ ip: '10.100.123.1', mask: '255.255.255.0' });
    expect(await ipam.acquire('default/vm')).toEqual({ ip: '10.100.123.1', mask: '255.255.255.0' });
    expect((await ipam.acquire('default/vm2')).ip).toBe('10.100.123.2');
    expect(await ipam.release('default/vm2')).toEqual(['10.100.123.2']);
    expect((await ipam.acquire('default/vm3')).ip).toBe('10.100.123.2');
    expect(await ipam.release('default/gone')).toEqual([]);
    expect(pools.store.get('neonvm-10.100.123.0-24')?.spec.allocations).toEqual({
      '1': { id: 'default/vm' },
      '2': { id: 'default/vm3' },
    });
    expect(await histogramCount(metrics, 'acquire', 'success')).toBe(4);
    expect(await histogramCount(metrics, 'release', 'success')).toBe(2);
    expect((await metrics.ipamOngoing.get()).values.every((v) => v.value === 0)).toBe(true);
  });

  it('retries on conflicts, and concurrent acquisitions get distinct addresses', async () => {
    const pools = new FakePools();
    const ipam = new Ipam({
      pools: pools as unknown as CustomResourceClient<IpPool>,
      namespace: 'ns',
      config,
    });
    await ipam.acquire('default/first');
    pools.conflicts = 2;
    expect((await ipam.acquire('default/second')).ip).toBe('10.100.123.2');
    const other = new Ipam({
      pools: pools as unknown as CustomResourceClient<IpPool>,
      namespace: 'ns',
      config,
    });
    const ips = await Promise.all(
      ['a', 'b', 'c', 'd'].map((n, i) => (i % 2 ? ipam : other).acquire(`default/${n}`)),
    );
    expect(new Set(ips.map((x) => x.ip)).size).toBe(4);
  });

  it('gives up after the attempt limit and counts a failure', async () => {
    const pools = new FakePools();
    const metrics = new OperatorMetrics();
    const ipam = new Ipam({
      pools: pools as unknown as CustomResourceClient<IpPool>,
      namespace: 'ns',
      config,
      metrics,
      maxAttempts: 3,
    });
    await ipam.acquire('default/first');
    pools.conflicts = 10;
    await expect(ipam.acquire('default/x')).rejects.toThrow('Conflict');
    expect(await histogramCount(metrics, 'acquire', 'failure')).toBe(1);
  });
});
