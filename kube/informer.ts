/**
 * The one watch loop of the project (the operator's controllers and the local cluster's node agent):
 * list, then watch from the list's resourceVersion; when the server ends a watch, watch again from the
 * last version seen (bookmarks included); on 410 Gone list again and report the difference, so
 * handlers see every change as if the watch had never broken. Failures are retried with capped
 * exponential back-off on the injected clock, forever, until `stop`. The cached objects are served
 * through a mutation cache (`recordWrite`/`recordDelete`), and an optional periodic resync hands every
 * object to the handlers again.
 *
 * Written here rather than taken from client-node: its ListWatch stops for good on any error but 410,
 * has no back-off, no bookmarks, no resync and no typed decoding of watch events.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { Backoff, DEFAULT_WATCH_BACKOFF, systemClock, type BackoffOptions, type Clock } from '../host';
import { isGone, statusCode } from './errors';
import { MutationCache, type MutableObjectCache } from './object-cache';
import type { KubeObject, ObjectList } from './object-key';

export type InformerEvent = 'add' | 'update' | 'delete' | 'resync';
export type InformerHandler<T> = (obj: T, event: InformerEvent) => void;

/** Opens watches: {@link KubeClient} (kube-client.ts), or client-node's `Watch`. */
export interface Watcher {
  watch(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    callback: (type: string, object: unknown) => void,
    done: (err?: unknown) => void,
  ): Promise<AbortController>;
}

export interface InformerOptions<T extends KubeObject> {
  /** For error reports, e.g. `runner-pods`. */
  readonly name: string;
  /** What opens the watches; without it, client-node's `Watch` on `kubeConfig` (imported on first use). */
  readonly watcher?: Watcher;
  readonly kubeConfig?: KubeConfig;
  /** Watch path, e.g. `/api/v1/pods` or `/apis/vm.neon.tech/v1/virtualmachines`. */
  readonly path: string;
  /** The list call, with the same selectors as the watch. */
  readonly list: () => Promise<ObjectList<T>>;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /**
   * Turns a raw watch object (plain JSON, dates as strings) into the model the list returns, e.g.
   * `decodeAs<V1Pod>('V1Pod')`. Default: used as is.
   */
  readonly decode?: (raw: unknown) => T;
  /**
   * Applied to every object before it is cached (listed, watched, or recorded from our own writes),
   * e.g. {@link stripManagedFields}: client-go's informer transform.
   */
  readonly transform?: (obj: T) => T;
  /** Every `resyncMs` all cached objects are handed to the handlers again (0 = never). */
  readonly resyncMs?: number;
  readonly backoff?: BackoffOptions;
  /** Timers for back-off and resync (tests inject a FakeClock). */
  readonly clock?: Clock;
  /** Called as each watch request is sent (request metrics; lists go through the list call's client). */
  readonly onWatch?: (path: string) => void;
  /** A list or watch failed; the loop retries after `retryInMs`. */
  readonly onError?: (err: unknown, retryInMs: number, informer: string) => void;
}

/** A watch that ended without a single event this soon after it started counts as a failure. */
const MIN_WATCH_MS = 1_000;

/** A watch ERROR event other than 410 Gone (its Status object). */
export class WatchError extends Error {
  constructor(readonly status: { code?: number; message?: string; reason?: string }) {
    super(`watch error ${status.code ?? ''} ${status.reason ?? ''}: ${status.message ?? ''}`.trim());
    this.name = 'WatchError';
  }
  get code(): number | undefined {
    return this.status.code;
  }
}

/**
 * Drops `metadata.managedFields` (server-side apply bookkeeping, often the largest part of a small
 * object) from objects a controller caches but never reads that field of.
 */
export function stripManagedFields<T extends KubeObject>(obj: T): T {
  if (!obj.metadata || !('managedFields' in obj.metadata)) return obj;
  const { managedFields: _dropped, ...metadata } = obj.metadata as { managedFields?: unknown };
  return { ...obj, metadata };
}

const keyOf = (namespace: string | undefined, name: string | undefined) => `${namespace ?? ''}/${name ?? ''}`;

export class Informer<T extends KubeObject> implements MutableObjectCache<T> {
  /** namespace → name → object. */
  private readonly store = new Map<string, Map<string, T>>();
  private readonly mutations: MutationCache<T>;
  private readonly handlers: InformerHandler<T>[] = [];
  private readonly syncedHandlers: Array<() => void> = [];
  private readonly backoff: Backoff;
  private readonly clock: Clock;
  private readonly transform: (obj: T) => T;
  private stopped = true;
  private synced = false;
  private error: unknown;
  private loop: Promise<void> | undefined;
  private abort: AbortController | undefined;
  private wake: (() => void) | undefined;
  private delayTimer: { cancel(): void } | undefined;
  private resyncTimer: { cancel(): void } | undefined;
  private syncWaiters: Array<() => void> = [];

  constructor(private readonly options: InformerOptions<T>) {
    if (!options.watcher && !options.kubeConfig)
      throw new Error(`informer ${options.name}: options.watcher or options.kubeConfig is required`);
    this.clock = options.clock ?? systemClock;
    this.backoff = new Backoff(options.backoff ?? DEFAULT_WATCH_BACKOFF);
    this.mutations = new MutationCache<T>({
      get: (namespace, name) => this.store.get(namespace)?.get(name),
      list: (namespace) => this.rawList(namespace),
    });
    this.transform = options.transform ?? ((obj) => obj);
  }

  /** Registers a handler (call before `start`); handlers enqueue keys, they must not block. */
  on(handler: InformerHandler<T>): void {
    this.handlers.push(handler);
  }

  /** Called once the first list has been delivered (call before `start`). */
  onSynced(handler: () => void): void {
    this.syncedHandlers.push(handler);
  }

  /** Starts list+watch; resolves once the first list has been delivered (retrying until it is) or on `stop`. */
  async start(): Promise<void> {
    if (!this.stopped) return this.waitForSync();
    this.stopped = false;
    this.loop = this.run();
    this.scheduleResync();
    return this.waitForSync();
  }

  /** Stops the loop; resolves when it has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort?.abort();
    this.delayTimer?.cancel();
    this.resyncTimer?.cancel();
    this.wake?.();
    for (const w of this.syncWaiters.splice(0)) w();
    await this.loop;
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** Whether `start` was called (and `stop` was not). */
  get running(): boolean {
    return !this.stopped;
  }

  /** Why the last list or watch failed, until a list succeeds (e.g. 404: the CRD is missing). */
  lastError(): unknown {
    return this.error;
  }

  get(namespace: string, name: string): T | undefined {
    return this.mutations.get(namespace, name);
  }

  list(namespace?: string): T[] {
    return this.mutations.list(namespace);
  }

  /** Makes the result of our own write visible to `get` until the watch delivers it. */
  recordWrite(obj: T): void {
    this.mutations.recordWrite(this.transform(obj));
  }

  /** Hides an object we deleted until the watch delivers the deletion. */
  recordDelete(obj: T): void {
    this.mutations.recordDelete(obj);
  }

  private rawList(namespace?: string): T[] {
    if (namespace !== undefined) return [...(this.store.get(namespace)?.values() ?? [])];
    return [...this.store.values()].flatMap((byName) => [...byName.values()]);
  }

  private waitForSync(): Promise<void> {
    if (this.synced || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  private async run(): Promise<void> {
    let resourceVersion = '';
    while (!this.stopped) {
      try {
        if (!resourceVersion) resourceVersion = await this.relist();
        const started = this.clock.now();
        const end = await this.watchOnce(resourceVersion);
        if (this.stopped) return;
        resourceVersion = end.expired ? '' : end.resourceVersion;
        if (end.expired) continue;
        if (end.events > 0 || this.clock.now() - started >= MIN_WATCH_MS) this.backoff.reset();
        else await this.delay(this.backoff.next()); // a server ending watches at once: do not spin
      } catch (err) {
        if (this.stopped) return;
        this.error = err;
        if (isGone(err)) resourceVersion = '';
        const retryInMs = this.backoff.next();
        this.options.onError?.(err, retryInMs, this.options.name);
        await this.delay(retryInMs);
      }
    }
  }

  /** Lists, replaces the store and reports the difference; returns the list's resourceVersion. */
  private async relist(): Promise<string> {
    const result = await this.options.list();
    if (this.stopped) return '';
    const seen = new Set<string>();
    for (const listed of result.items) {
      const item = this.transform(listed);
      const { namespace = '', name = '' } = item.metadata ?? {};
      seen.add(keyOf(namespace, name));
      const before = this.store.get(namespace)?.get(name);
      this.put(item);
      if (!before) this.emit(item, 'add');
      else if (before.metadata?.resourceVersion !== item.metadata?.resourceVersion) this.emit(item, 'update');
    }
    for (const obj of this.rawList()) {
      if (!seen.has(keyOf(obj.metadata?.namespace, obj.metadata?.name))) {
        this.remove(obj);
        this.emit(obj, 'delete');
      }
    }
    this.error = undefined;
    this.backoff.reset();
    if (!this.synced) {
      this.synced = true;
      for (const handler of this.syncedHandlers) this.call(() => handler());
      for (const w of this.syncWaiters.splice(0)) w();
    }
    return result.metadata?.resourceVersion ?? '';
  }

  /** Watches until the server ends the stream; the last resourceVersion seen, or `expired` on 410. */
  private watchOnce(
    resourceVersion: string,
  ): Promise<{ resourceVersion: string; expired: boolean; events: number }> {
    let latest = resourceVersion;
    let events = 0;
    let expired = false;
    let failure: Error | undefined;
    const { labelSelector, fieldSelector } = this.options;
    const query = {
      resourceVersion,
      allowWatchBookmarks: true,
      ...(labelSelector ? { labelSelector } : {}),
      ...(fieldSelector ? { fieldSelector } : {}),
    };
    return new Promise((resolve, reject) => {
      const onEvent = (phase: string, raw: unknown): void => {
        if (this.stopped) return;
        if (phase === 'ERROR') {
          const status = (raw ?? {}) as { code?: number; message?: string; reason?: string };
          if (status.code === 410)
            expired = true; // our resourceVersion is too old: list again
          else failure = new WatchError(status);
          this.abort?.abort();
          return;
        }
        const obj = this.transform(this.options.decode ? this.options.decode(raw) : (raw as T));
        const version = obj.metadata?.resourceVersion;
        if (version) latest = version;
        if (phase === 'BOOKMARK') return;
        events += 1;
        if (phase === 'DELETED') {
          this.remove(obj);
          this.emit(obj, 'delete');
        } else {
          const existed = this.store.get(obj.metadata?.namespace ?? '')?.has(obj.metadata?.name ?? '');
          this.put(obj);
          this.emit(obj, existed ? 'update' : 'add');
        }
      };
      const onDone = (err: unknown): void => {
        this.abort = undefined;
        if (failure) reject(failure);
        else if (expired || (err && statusCode(err) === 410))
          resolve({ resourceVersion: latest, expired: true, events });
        else if (err && !this.stopped && !(err instanceof Error && err.name === 'AbortError'))
          reject(err instanceof Error ? err : new Error(String(err)));
        else resolve({ resourceVersion: latest, expired: false, events });
      };
      this.options.onWatch?.(this.options.path);
      this.watcher()
        .then((watcher) => watcher.watch(this.options.path, query, onEvent, onDone))
        .then((abort) => {
          this.abort = abort;
          if (this.stopped) abort.abort();
        }, reject);
    });
  }

  private async watcher(): Promise<Watcher> {
    if (this.options.watcher) return this.options.watcher;
    // Only the watch module: client-node's index loads every generated API (see kube-connection.ts).
    const { Watch } = await import('@kubernetes/client-node/dist/watch.js');
    return new Watch(this.options.kubeConfig as KubeConfig);
  }

  private put(obj: T): void {
    const { namespace = '', name = '' } = obj.metadata ?? {};
    let byName = this.store.get(namespace);
    if (!byName) this.store.set(namespace, (byName = new Map()));
    byName.set(name, obj);
  }

  private remove(obj: T): void {
    const { namespace = '', name = '' } = obj.metadata ?? {};
    const byName = this.store.get(namespace);
    byName?.delete(name);
    if (byName?.size === 0) this.store.delete(namespace);
    this.mutations.forget(namespace, name);
  }

  /** Waits `ms` on the clock; `stop` cuts the wait short. */
  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.delayTimer = this.clock.setTimer(ms, resolve);
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
    for (const handler of this.handlers) this.call(() => handler(obj, event));
  }

  /** A throwing handler must not break the loop (client-node's watch would swallow it silently). */
  private call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.options.onError?.(err, 0, `${this.options.name} handler`);
    }
  }
}
