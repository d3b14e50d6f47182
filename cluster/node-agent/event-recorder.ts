import { systemClock, type Clock } from '../../host';
import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';

export type EventType = 'Normal' | 'Warning';

/** Where events are posted: the API server (client-node's CoreV1Api has this shape, as has the agent's lean sink). */
export interface EventSink {
  createNamespacedEvent(request: { namespace: string; body: CoreV1Event }): Promise<unknown>;
}

/** Identical events (same pod, container, reason, message) inside this window are reported once. */
export const REPEAT_WINDOW_MS = 10_000;

/** The Event the kubelet would write for `pod` (core/v1, source component "kubelet"). */
export function podEvent(
  pod: V1Pod,
  node: string,
  type: EventType,
  reason: string,
  message: string,
  container: string | undefined,
  now: Date,
): CoreV1Event {
  const name = pod.metadata?.name ?? '';
  return {
    metadata: { generateName: `${name}.`, namespace: pod.metadata?.namespace },
    involvedObject: {
      apiVersion: 'v1',
      kind: 'Pod',
      name,
      namespace: pod.metadata?.namespace,
      uid: pod.metadata?.uid,
      fieldPath: container ? `spec.containers{${container}}` : undefined,
    },
    type,
    reason,
    message,
    source: { component: 'kubelet', host: node },
    reportingComponent: 'kubelet',
    reportingInstance: node,
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
  };
}

/** Events waiting to be posted beyond this many are dropped, oldest first (the kubelet's buffer is 1000). */
export const MAX_QUEUED_EVENTS = 1000;

/** Longest an event waits for the node's pod starts to be reported (see holdWhileStarting). */
export const MAX_EVENT_DEFER_MS = 2_000;

/**
 * Posts kubelet-style Events (Pulled, Created, Started, Killing, BackOff, Unhealthy, Failed) so that
 * `kubectl describe pod` tells the same story as on a real node. Best effort: failures are ignored.
 * One at a time, in order, as the kubelet's event broadcaster sends them: fired all at once, a burst of
 * pod starts (three events each) opened a new API connection per event in flight and competed with the
 * pod status writes that the events only describe.
 *
 * Events also yield to pod starts: while a pod of the node is starting (holdWhileStarting), queued
 * events wait, at most MAX_EVENT_DEFER_MS. A pod start's three events cost the API server and etcd
 * about as much as the pod's status write; in a burst of 50 pods they competed with the status writes
 * (what controllers and clients wait for) for the same two cores.
 */
export class EventRecorder {
  private readonly recent = new Map<string, number>();
  private readonly queue: Array<{ at: number; request: { namespace: string; body: CoreV1Event } }> = [];
  private sending = false;
  private holds = 0;
  /** Senders waiting for the holds to end. */
  private readonly quietWaiters = new Set<() => void>();

  constructor(
    private readonly core: EventSink,
    private readonly node: string,
    private readonly clock: Clock = systemClock,
  ) {}

  record(pod: V1Pod, type: EventType, reason: string, message: string, container?: string): void {
    const key = `${pod.metadata?.uid}/${container}/${reason}/${message}`;
    const now = this.clock.now();
    if ((this.recent.get(key) ?? -Infinity) > now - REPEAT_WINDOW_MS) return;
    this.recent.set(key, now);
    if (this.recent.size > 1000) this.forgetOld(now);
    const body = podEvent(pod, this.node, type, reason, message, container, new Date(now));
    if (this.queue.length >= MAX_QUEUED_EVENTS) this.queue.shift();
    this.queue.push({ at: now, request: { namespace: pod.metadata?.namespace ?? 'default', body } });
    if (!this.sending) void this.send();
  }

  /**
   * Holds queued events back until the returned release is called (idempotent): a pod worker holds
   * them from its creation until its first status write.
   */
  holdWhileStarting(): () => void {
    this.holds += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds -= 1;
      if (this.holds === 0) for (const wake of [...this.quietWaiters]) wake();
    };
  }

  private async send(): Promise<void> {
    this.sending = true;
    for (let next = this.queue.shift(); next; next = this.queue.shift()) {
      if (this.holds > 0) await this.quiet(next.at);
      await this.core.createNamespacedEvent(next.request).catch(() => undefined);
    }
    this.sending = false;
  }

  /** Resolves when no pod start holds events back, or when the event recorded at `at` waited long enough. */
  private quiet(at: number): Promise<void> {
    const wait = at + MAX_EVENT_DEFER_MS - this.clock.now();
    if (wait <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        timer.cancel();
        this.quietWaiters.delete(wake);
        resolve();
      };
      const timer = this.clock.setTimer(wait, wake);
      this.quietWaiters.add(wake);
    });
  }

  private forgetOld(now: number): void {
    for (const [key, at] of this.recent) if (at <= now - REPEAT_WINDOW_MS) this.recent.delete(key);
  }
}
