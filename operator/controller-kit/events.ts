/**
 * Kubernetes Events (core/v1) about our objects. Best effort: a failure to record an event is logged
 * at debug level and never fails a reconcile.
 */
import type { CoreApi, KubeObject } from '../../kube';
import type { Clock } from './clock';
import { errorFields, type Logger } from './logger';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  record(obj: KubeObject, type: EventType, reason: string, message: string): void;
}

export class KubeEventRecorder implements EventRecorder {
  private seq = 0;

  constructor(
    private readonly core: CoreApi,
    private readonly component: string,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  record(obj: KubeObject, type: EventType, reason: string, message: string): void {
    const { namespace = 'default', name = '', uid } = obj.metadata ?? {};
    const now = new Date(this.clock.now());
    const body = {
      metadata: { name: `${name}.${now.getTime().toString(16)}${(this.seq++).toString(16)}`, namespace },
      involvedObject: { apiVersion: obj.apiVersion, kind: obj.kind, name, namespace, uid },
      reason,
      message,
      type,
      source: { component: this.component },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      reportingComponent: this.component,
    };
    this.core.createNamespacedEvent({ namespace, body }).catch((err: unknown) => {
      this.log.debug(
        { reason, object: `${namespace}/${name}`, ...errorFields(err) },
        'could not record event',
      );
    });
  }
}

/** Collects events in memory (tests). */
export class MemoryEventRecorder implements EventRecorder {
  readonly events: Array<{ object: string; type: EventType; reason: string; message: string }> = [];

  record(obj: KubeObject, type: EventType, reason: string, message: string): void {
    this.events.push({
      object: `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`,
      type,
      reason,
      message,
    });
  }
}
