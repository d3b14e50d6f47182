import { KubeConfig, KubernetesObject, Watch } from '@kubernetes/client-node';
import { sleep } from '../../host';

export interface ListResult<T> {
  items: T[];
  resourceVersion: string;
}

export interface ListWatchHandlers<T> {
  /** Added or changed (also called for every object of each relist). */
  upsert(obj: T): void;
  deleted(obj: T): void;
}

export interface ListWatchOptions<T> {
  kubeConfig: KubeConfig;
  /** Watch path, e.g. /api/v1/pods. */
  path: string;
  query?: Record<string, string>;
  list(): Promise<ListResult<T>>;
  /**
   * Turns a raw watch object into the typed model (list results come typed from the generated client,
   * watch events as plain JSON with dates as strings). E.g. `(o) => ObjectSerializer.deserialize(o, 'V1Pod')`.
   */
  decode(raw: unknown): T;
  handlers: ListWatchHandlers<T>;
  onError?: (err: Error) => void;
}

const keyOf = (o: KubernetesObject): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

/**
 * A minimal informer: list, then watch from the list's resourceVersion; when the watch ends (timeout,
 * 410 Gone, connection loss) list again and report the difference, so handlers see every change exactly
 * as if the watch had never broken. Keeps the current objects in `store`.
 */
export class ListWatch<T extends KubernetesObject> {
  readonly store = new Map<string, T>();
  private stopped = false;
  private abort: AbortController | undefined;
  private loop: Promise<void> | undefined;

  constructor(private readonly options: ListWatchOptions<T>) {}

  /** Resolves after the first list has been delivered to the handlers. */
  async start(): Promise<void> {
    const resourceVersion = await this.relist();
    this.loop = this.run(resourceVersion);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort?.abort();
    await this.loop;
  }

  get(namespace: string, name: string): T | undefined {
    return this.store.get(`${namespace}/${name}`);
  }

  private async relist(): Promise<string> {
    const { items, resourceVersion } = await this.options.list();
    const seen = new Set<string>();
    for (const item of items) {
      const key = keyOf(item);
      seen.add(key);
      const before = this.store.get(key);
      this.store.set(key, item);
      if (before?.metadata?.resourceVersion !== item.metadata?.resourceVersion)
        this.options.handlers.upsert(item);
    }
    for (const [key, obj] of [...this.store]) {
      if (!seen.has(key)) {
        this.store.delete(key);
        this.options.handlers.deleted(obj);
      }
    }
    return resourceVersion;
  }

  private async run(initialVersion: string): Promise<void> {
    let resourceVersion = initialVersion;
    while (!this.stopped) {
      try {
        resourceVersion = await this.watchOnce(resourceVersion);
      } catch (err) {
        if (this.stopped) return;
        this.options.onError?.(err as Error);
        await sleep(500);
      }
      if (this.stopped) return;
      try {
        resourceVersion = await this.relist();
      } catch (err) {
        this.options.onError?.(err as Error);
        await sleep(1000);
      }
    }
  }

  /** Watches until the server ends the stream; returns the last resourceVersion seen. */
  private watchOnce(resourceVersion: string): Promise<string> {
    let latest = resourceVersion;
    return new Promise<string>((resolve, reject) => {
      const watch = new Watch(this.options.kubeConfig);
      watch
        .watch(
          this.options.path,
          { ...this.options.query, resourceVersion, allowWatchBookmarks: true },
          (phase: string, raw: unknown) => {
            if (phase === 'ERROR') {
              // Typically 410 Gone: our resourceVersion is too old. Relisting recovers.
              this.abort?.abort();
              return;
            }
            const obj = this.options.decode(raw);
            const version = obj.metadata?.resourceVersion;
            if (version) latest = version;
            if (phase === 'BOOKMARK') return;
            const key = keyOf(obj);
            if (phase === 'DELETED') {
              this.store.delete(key);
              this.options.handlers.deleted(obj);
            } else {
              this.store.set(key, obj);
              this.options.handlers.upsert(obj);
            }
          },
          (err: unknown) => {
            if (err && !this.stopped && !(err instanceof Error && err.name === 'AbortError'))
              reject(err as Error);
            else resolve(latest);
          },
        )
        .then((abort) => {
          this.abort = abort;
          if (this.stopped) abort.abort();
        }, reject);
    });
  }
}
