import { systemClock, type Clock } from '../../host';
import { CoreV1Api, CoreV1Event, V1Pod } from '@kubernetes/client-node';

export type EventType = 'Normal' | 'Warning';

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

/**
 * Posts kubelet-style Events (Pulled, Created, Started, Killing, BackOff, Unhealthy, Failed) so that
 * `kubectl describe pod` tells the same story as on a real node. Best effort: failures are ignored.
 * One at a time, in order, as the kubelet's event broadcaster sends them: fired all at once, a burst of
 * pod starts (three events each) opened a new API connection per event in flight and competed with the
 * pod status writes that the events only describe.
 */
export class EventRecorder {
  private readonly recent = new Map<string, number>();
  private readonly queue: Array<{ namespace: string; body: CoreV1Event }> = [];
  private sending = false;

  constructor(
    private readonly core: CoreV1Api,
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
    this.queue.push({ namespace: pod.metadata?.namespace ?? 'default', body });
    if (!this.sending) void this.send();
  }

  private async send(): Promise<void> {
    this.sending = true;
    for (let next = this.queue.shift(); next; next = this.queue.shift()) {
      await this.core.createNamespacedEvent(next).catch(() => undefined);
    }
    this.sending = false;
  }

  private forgetOld(now: number): void {
    for (const [key, at] of this.recent) if (at <= now - REPEAT_WINDOW_MS) this.recent.delete(key);
  }
}
