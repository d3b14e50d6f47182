/**
 * The operator's state as JSON for the dump-state endpoint: built from what the process holds in memory
 * (controllers' failure trackers and work queues, the informers' caches, the API rate limiter), so it
 * costs no API request. Cached objects are listed by key and resourceVersion only — the caches hold
 * Secrets (TLS keys), whose contents must never leave the process this way.
 */
import type { Controller, FailingSnapshot, WorkQueueSnapshot } from '../controller-kit';
import type { KubeObject, TokenBucket } from '../../kube';

/** One element of upstream's dump-state answer (`GET /` on :7778), field for field. */
export interface UpstreamReconcileSnapshot {
  readonly controllerName: string;
  readonly failing: string[];
  readonly conflicting: string[];
}

export interface InformerView {
  readonly running: boolean;
  hasSynced(): boolean;
  lastError(): unknown;
  list(): KubeObject[];
}

export interface StateSources {
  readonly identity: string;
  isLeader(): boolean;
  readonly controllers: readonly Controller[];
  readonly informers: Readonly<Record<string, InformerView>>;
  readonly requestLimit?: { readonly qps: number; readonly burst: number; readonly bucket: TokenBucket };
  now(): number;
}

export interface DumpedState {
  readonly time: string;
  readonly identity: string;
  readonly leader: boolean;
  readonly controllers: Array<
    FailingSnapshot & {
      readonly queue: WorkQueueSnapshot;
      /** Keys whose reconcile returned and whose handed-off writes have not landed yet. */
      readonly heldForWrites: string[];
    }
  >;
  readonly informers: Array<{
    readonly name: string;
    readonly running: boolean;
    readonly synced: boolean;
    readonly lastError?: string;
    readonly count: number;
    readonly objects: Array<{ readonly key: string; readonly resourceVersion?: string }>;
  }>;
  readonly apiClient?: { readonly qps: number; readonly burst: number; readonly waiting: number };
}

/** Upstream's answer: degraded keys per controller, retried or not. */
export function upstreamSnapshot(controllers: readonly Controller[]): UpstreamReconcileSnapshot[] {
  return controllers.map((c) => {
    const s = c.failingSnapshot();
    return {
      controllerName: s.controllerName,
      failing: [...s.failing.retried, ...s.failing.notRetried],
      conflicting: [...s.conflicting.retried, ...s.conflicting.notRetried],
    };
  });
}

export function dumpState(s: StateSources): DumpedState {
  return {
    time: new Date(s.now()).toISOString(),
    identity: s.identity,
    leader: s.isLeader(),
    controllers: s.controllers.map((c) => ({
      ...c.failingSnapshot(),
      queue: c.queue.snapshot(),
      heldForWrites: c.heldKeys(),
    })),
    informers: Object.entries(s.informers).map(([name, informer]) => {
      const objects = informer
        .list()
        .map((o) => ({
          key: `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`,
          resourceVersion: o.metadata?.resourceVersion,
        }))
        .sort((a, b) => a.key.localeCompare(b.key));
      const err = informer.lastError();
      return {
        name,
        running: informer.running,
        synced: informer.hasSynced(),
        ...(err === undefined ? {} : { lastError: err instanceof Error ? err.message : String(err) }),
        count: objects.length,
        objects,
      };
    }),
    ...(s.requestLimit
      ? {
          apiClient: {
            qps: s.requestLimit.qps,
            burst: s.requestLimit.burst,
            waiting: s.requestLimit.bucket.waiting,
          },
        }
      : {}),
  };
}
