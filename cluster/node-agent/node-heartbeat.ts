import { systemClock, type Clock, type TimerHandle } from '../../host';
import {
  CoordinationV1Api,
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  V1Lease,
  V1MicroTime,
} from '@kubernetes/client-node';
import type { ApiClientFactory } from '../../kube/client-node';
import { NodeDescription, nodeObject, nodeStatus } from './node-object';

const LEASE_NAMESPACE = 'kube-node-lease';

export interface HeartbeatIntervals {
  /** Lease renewal (kubelet default 10 s for a 40 s lease). */
  leaseRenewMs: number;
  leaseDurationSeconds: number;
  /** Full status refresh (the kubelet reports at least every 5 min when nothing changes). */
  statusRefreshMs: number;
}

export const DEFAULT_HEARTBEAT: HeartbeatIntervals = {
  leaseRenewMs: 10_000,
  leaseDurationSeconds: 40,
  statusRefreshMs: 60_000,
};

const isStatus = (err: unknown, code: number): boolean => (err as { code?: number }).code === code;

/**
 * Registers a Node and keeps it alive the way the kubelet does: its Lease in kube-node-lease is renewed
 * every few seconds (what the node lifecycle controller watches) and its status, with the Ready
 * condition, is re-posted periodically.
 */
export class NodeHeartbeat {
  private readonly core: CoreV1Api;
  private readonly coordination: CoordinationV1Api;
  private timers: TimerHandle[] = [];
  private stopped = false;
  private readonly registeredAt: Date;

  constructor(
    clients: ApiClientFactory,
    private readonly node: NodeDescription,
    private readonly intervals: HeartbeatIntervals = DEFAULT_HEARTBEAT,
    private readonly clock: Clock = systemClock,
    private readonly onError: (err: Error) => void = () => undefined,
  ) {
    this.registeredAt = new Date(clock.now());
    this.core = clients(CoreV1Api);
    this.coordination = clients(CoordinationV1Api);
  }

  async start(): Promise<void> {
    try {
      await this.core.createNode({ body: nodeObject(this.node, new Date(this.clock.now())) });
    } catch (err) {
      if (!isStatus(err, 409)) throw err;
      await this.postStatus();
    }
    await this.renewLease();
    this.every(this.intervals.leaseRenewMs, () => this.renewLease());
    this.every(this.intervals.statusRefreshMs, () => this.postStatus());
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) t.cancel();
    this.timers = [];
  }

  /** Runs fn every `ms` on the clock (its timers do not keep the process alive). */
  private every(ms: number, fn: () => Promise<void>): void {
    const tick = () => {
      if (this.stopped) return;
      this.timers = this.timers.filter((t) => t !== timer);
      void fn().catch((err: Error) => this.onError(err));
      timer = this.clock.setTimer(ms, tick);
      this.timers.push(timer);
    };
    let timer = this.clock.setTimer(ms, tick);
    this.timers.push(timer);
  }

  private async postStatus(): Promise<void> {
    await this.core.patchNodeStatus(
      {
        name: this.node.name,
        body: { status: nodeStatus(this.node, new Date(this.clock.now()), this.registeredAt) },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }

  private async renewLease(): Promise<void> {
    const name = this.node.name;
    const spec = {
      holderIdentity: name,
      leaseDurationSeconds: this.intervals.leaseDurationSeconds,
      renewTime: new V1MicroTime(),
    };
    let lease: V1Lease | undefined;
    try {
      lease = await this.coordination.readNamespacedLease({ name, namespace: LEASE_NAMESPACE });
    } catch (err) {
      if (!isStatus(err, 404)) throw err;
    }
    if (!lease) {
      const node = await this.core.readNode({ name });
      await this.coordination.createNamespacedLease({
        namespace: LEASE_NAMESPACE,
        body: {
          metadata: {
            name,
            namespace: LEASE_NAMESPACE,
            // Owned by the Node, so deleting the Node garbage-collects the Lease (as with the kubelet).
            ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name, uid: node.metadata!.uid! }],
          },
          spec,
        },
      });
      return;
    }
    await this.coordination.replaceNamespacedLease({
      name,
      namespace: LEASE_NAMESPACE,
      body: { ...lease, spec: { ...lease.spec, ...spec } },
    });
  }
}
