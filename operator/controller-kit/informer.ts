/**
 * An informer over client-node's ListWatch that keeps itself alive: ListWatch lists, watches and
 * relists on 410 Gone, but stops for good on any other error; this wrapper restarts it with capped
 * exponential backoff, adds a periodic resync, and hands out only events (handlers enqueue keys).
 */
import {
  KubeConfig,
  ListWatch,
  Watch,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { Backoff, type BackoffOptions, DEFAULT_WATCH_BACKOFF } from './backoff';
import { systemClock, type Clock, type TimerHandle } from './clock';
import { errorFields, type Logger } from './logger';
import { MutationCache, type ObjectCache } from './object-cache';
import type { KubeObject, ObjectList } from './object-key';

export type InformerEvent = 'add' | 'update' | 'delete' | 'resync';
export type InformerHandler<T> = (obj: T, event: InformerEvent) => void;

export interface InformerOptions<T extends KubeObject> {
  readonly name: string;
  readonly kubeConfig: KubeConfig;
  /** Watch path, e.g. `/api/v1/pods` or `/apis/vm.neon.tech/v1/virtualmachines`. */
  readonly path: string;
  readonly list: () => Promise<ObjectList<T>>;
  readonly labelSelector?: string;
  /** Every `resyncMs` all cached objects are handed to the handlers again (0 = never). */
  readonly resyncMs?: number;
  readonly backoff?: BackoffOptions;
  readonly clock?: Clock;
  readonly log: Logger;
}

export class Informer<T extends KubeObject> implements ObjectCache<T> {
  private readonly listWatch: ListWatch<KubernetesObject>;
  private readonly handlers: InformerHandler<T>[] = [];
  private readonly backoff: Backoff;
  private readonly clock: Clock;
  private readonly mutations: MutationCache<T>;
  private restartTimer: TimerHandle | undefined;
  private resyncTimer: TimerHandle | undefined;
  private failedThisRound = false;
  private stopped = true;
  private synced = false;

  constructor(private readonly options: InformerOptions<T>) {
    this.clock = options.clock ?? systemClock;
    this.backoff = new Backoff(options.backoff ?? DEFAULT_WATCH_BACKOFF);
    // ListWatch wants client-node's KubernetesObject; our objects have the same structure.
    this.listWatch = new ListWatch<KubernetesObject>(
      options.path,
      new Watch(options.kubeConfig),
      options.list as () => Promise<KubernetesListObject<KubernetesObject>>,
      false,
      options.labelSelector,
    );
    const listWatch = this.listWatch;
    this.mutations = new MutationCache<T>({
      get: (namespace, name) => listWatch.get(name, namespace) as T | undefined,
      list: (namespace) => [...listWatch.list(namespace)] as T[],
    });
    this.listWatch.on('add', (o) => this.emit(o as T, 'add'));
    this.listWatch.on('update', (o) => this.emit(o as T, 'update'));
    this.listWatch.on('delete', (o) => {
      this.mutations.forget(o.metadata?.namespace ?? '', o.metadata?.name ?? '');
      this.emit(o as T, 'delete');
    });
    this.listWatch.on('error', (err: unknown) => this.onError(err));
  }

  /** Registers a handler; call before `start`. */
  on(handler: InformerHandler<T>): void {
    this.handlers.push(handler);
  }

  /** Starts list+watch; resolves once the first list has been delivered (retrying until it is). */
  async start(): Promise<void> {
    this.stopped = false;
    await this.runOnce();
    this.scheduleResync();
    while (!this.synced && !this.stopped) await new Promise<void>((r) => this.clock.setTimer(50, r));
  }

  stop(): void {
    this.stopped = true;
    this.restartTimer?.cancel();
    this.resyncTimer?.cancel();
    void this.listWatch.stop();
  }

  hasSynced(): boolean {
    return this.synced;
  }

  get(namespace: string, name: string): T | undefined {
    return this.mutations.get(namespace, name);
  }

  list(namespace?: string): T[] {
    return this.mutations.list(namespace);
  }

  /** Makes the result of our own write visible to `get` until the watch delivers it. */
  recordWrite(obj: T): void {
    this.mutations.recordWrite(obj);
  }

  private async runOnce(): Promise<void> {
    this.failedThisRound = false;
    await this.listWatch.start();
    if (!this.failedThisRound) {
      this.synced = true;
      this.backoff.reset();
    }
  }

  private onError(err: unknown): void {
    this.failedThisRound = true;
    if (this.stopped) return;
    const delay = this.backoff.next();
    this.options.log.warn(
      { informer: this.options.name, retryInMs: delay, ...errorFields(err) },
      'watch failed; restarting',
    );
    this.restartTimer?.cancel();
    this.restartTimer = this.clock.setTimer(delay, () => {
      if (!this.stopped) void this.runOnce();
    });
  }

  private scheduleResync(): void {
    const every = this.options.resyncMs ?? 0;
    if (every <= 0 || this.stopped) return;
    this.resyncTimer = this.clock.setTimer(every, () => {
      for (const obj of this.list()) this.emit(obj, 'resync');
      this.scheduleResync();
    });
  }

  private emit(obj: T, event: InformerEvent): void {
    for (const handler of this.handlers) handler(obj, event);
  }
}
