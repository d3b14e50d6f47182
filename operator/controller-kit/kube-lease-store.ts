/** LeaseStore backed by a coordination.k8s.io/v1 Lease object. */
import type { V1Lease } from '@kubernetes/client-node';
// A deep import: client-node's index loads every generated API (kube/kube-connection.ts).
import { V1MicroTime } from '@kubernetes/client-node/dist/types.js';
import { unlessNotFound, type CoordinationApi } from '../../kube';
import type { LeaseRecord, LeaseStore } from './leader-election';

/** The Lease object `<namespace>/<name>`. */
export class KubeLeaseStore implements LeaseStore {
  constructor(
    private readonly api: CoordinationApi,
    private readonly namespace: string,
    private readonly name: string,
  ) {}

  async get(): Promise<LeaseRecord | undefined> {
    const lease = await unlessNotFound(
      this.api.readNamespacedLease({ name: this.name, namespace: this.namespace }),
    );
    return lease && fromLease(lease);
  }

  async create(record: LeaseRecord): Promise<LeaseRecord> {
    return fromLease(
      await this.api.createNamespacedLease({ namespace: this.namespace, body: this.toLease(record) }),
    );
  }

  async update(record: LeaseRecord): Promise<LeaseRecord> {
    return fromLease(
      await this.api.replaceNamespacedLease({
        name: this.name,
        namespace: this.namespace,
        body: this.toLease(record),
      }),
    );
  }

  private toLease(r: LeaseRecord): V1Lease {
    const micro = (d: Date | undefined): V1MicroTime | undefined =>
      d ? new V1MicroTime(d.getTime()) : undefined;
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.name, namespace: this.namespace, resourceVersion: r.version },
      spec: {
        holderIdentity: r.holderIdentity,
        leaseDurationSeconds: r.leaseDurationSeconds,
        acquireTime: micro(r.acquireTime),
        renewTime: micro(r.renewTime),
        leaseTransitions: r.leaseTransitions,
      },
    };
  }
}

function fromLease(lease: V1Lease): LeaseRecord {
  const spec = lease.spec ?? {};
  const date = (d: Date | string | undefined): Date | undefined => (d ? new Date(d) : undefined);
  return {
    holderIdentity: spec.holderIdentity ?? '',
    leaseDurationSeconds: spec.leaseDurationSeconds ?? 15,
    acquireTime: date(spec.acquireTime),
    renewTime: date(spec.renewTime),
    leaseTransitions: spec.leaseTransitions ?? 0,
    version: lease.metadata?.resourceVersion,
  };
}
