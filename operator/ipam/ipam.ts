/**
 * Overlay IPAM backed by IPPool objects (one per range, in the IPAM NAD's namespace). Updates use
 * optimistic concurrency: read the pool, compute, replace with its resourceVersion; a 409 means
 * another writer won, so read again and retry. In-process calls for one pool are serialised to keep
 * conflicts rare; other replicas are handled by the resourceVersion check.
 */
import { API_VERSION, IP_POOL, type IpPool } from '../../crds';
import { isAlreadyExists, isConflict, unlessNotFound, type CustomResourceClient } from '../../kube';
import { type OperatorMetrics } from '../controller-kit';
import { allocate, RangeExhaustedError, release } from './allocate';
import { ipPoolName, type IpamConfig, type IpRange } from './ipam-config';

export interface IpLease {
  readonly ip: string;
  readonly mask: string;
}

export interface IpamOptions {
  readonly pools: CustomResourceClient<IpPool>;
  readonly namespace: string;
  readonly config: IpamConfig;
  readonly metrics?: OperatorMetrics;
  /** Attempts per range before giving up on conflicts (upstream: 5). */
  readonly maxAttempts?: number;
}

export class Ipam {
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(private readonly options: IpamOptions) {}

  /** The address of `id` (`namespace/vmName`), allocating one if needed; `owner` is the VM's UID. */
  acquire(id: string, owner?: string): Promise<IpLease> {
    return this.measure('acquire', async () => {
      let lastError: unknown;
      for (const range of this.options.config.ranges) {
        try {
          return await this.withPool(range, (pool) => {
            const r = allocate(pool.spec.allocations, id, range, owner);
            return { allocations: r.changed ? r.allocations : undefined, result: { ip: r.ip, mask: r.mask } };
          });
        } catch (err) {
          if (!(err instanceof RangeExhaustedError)) throw err;
          lastError = err;
        }
      }
      throw lastError;
    });
  }

  /**
   * Releases every address of `id` held by `owner` (the VM's UID; allocations without one are released
   * too); returns the released addresses (none is fine).
   */
  release(id: string, owner?: string): Promise<string[]> {
    return this.measure('release', async () => {
      const released: string[] = [];
      for (const range of this.options.config.ranges) {
        const ip = await this.withPool(range, (pool) => {
          const r = release(pool.spec.allocations, id, range, owner);
          return { allocations: r.ip ? r.allocations : undefined, result: r.ip };
        });
        if (ip) released.push(ip);
      }
      return released;
    });
  }

  private async measure<T>(action: 'acquire' | 'release', fn: () => Promise<T>): Promise<T> {
    const metrics = this.options.metrics;
    const started = process.hrtime.bigint();
    metrics?.ipamOngoing.inc({ action });
    let outcome = 'failure';
    try {
      const result = await fn();
      outcome = 'success';
      return result;
    } finally {
      metrics?.ipamOngoing.dec({ action });
      metrics?.ipamDuration.observe({ action, outcome }, Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  /** Runs read-compute-replace on the pool of `range` with conflict retries, serialised per pool. */
  private withPool<R>(
    range: IpRange,
    compute: (pool: IpPool) => { allocations?: IpPool['spec']['allocations']; result: R },
  ): Promise<R> {
    const name = ipPoolName(this.options.config.networkName, range.range);
    const previous = this.locks.get(name) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(() => this.update(name, range, compute));
    this.locks.set(name, run);
    void run
      .finally(() => {
        if (this.locks.get(name) === run) this.locks.delete(name);
      })
      .catch(() => undefined);
    return run;
  }

  private async update<R>(
    name: string,
    range: IpRange,
    compute: (pool: IpPool) => { allocations?: IpPool['spec']['allocations']; result: R },
  ): Promise<R> {
    const { pools, namespace } = this.options;
    const attempts = this.options.maxAttempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      const pool = await this.getOrCreate(name, range);
      const { allocations, result } = compute(pool);
      if (!allocations) return result;
      try {
        await pools.replace(namespace, name, { ...pool, spec: { ...pool.spec, allocations } });
        return result;
      } catch (err) {
        if (!isConflict(err) || attempt >= attempts) throw err;
      }
    }
  }

  private async getOrCreate(name: string, range: IpRange): Promise<IpPool> {
    const { pools, namespace } = this.options;
    const existing = await unlessNotFound(pools.get(namespace, name));
    if (existing) return existing;
    const body: IpPool = {
      apiVersion: API_VERSION,
      kind: IP_POOL.kind,
      metadata: { name, namespace },
      spec: { range: range.range, allocations: {} },
    };
    try {
      return await pools.create(namespace, body);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      return pools.get(namespace, name);
    }
  }
}
