/**
 * Read side of an informer. `recordWrite` implements client-go's "mutation cache": an object returned
 * by one of our own writes is served until the informer has caught up with it, so a reconcile that
 * follows a write never acts on the state from before it (e.g. never generates a second pod name).
 * `recordDelete` does the same for our deletes: the object is hidden until the watch reports it gone.
 */

import type { KubeObject } from './object-key';
export interface ObjectCache<T extends KubeObject> {
  get(namespace: string, name: string): T | undefined;
  list(namespace?: string): T[];
}

/** Where a writer reports the objects its writes returned (an informer's mutation cache). */
export interface WriteRecorder<T> {
  recordWrite(obj: T): void;
}

/** A cache that also serves our own writes and deletes before the watch reports them. */
export interface MutableObjectCache<T extends KubeObject> extends ObjectCache<T>, WriteRecorder<T> {
  recordDelete(obj: T): void;
}

/** Resource versions are opaque, but etcd's are integers; compare as such when possible. */
export function isNewerVersion(candidate: string | undefined, than: string | undefined): boolean {
  if (!candidate) return false;
  if (!than) return true;
  if (/^\d+$/.test(candidate) && /^\d+$/.test(than)) return BigInt(candidate) > BigInt(than);
  return candidate !== than;
}

export class MutationCache<T extends KubeObject> implements MutableObjectCache<T> {
  private readonly written = new Map<string, T>();
  /** Objects we deleted, by key: the resourceVersion they had (hidden while the cache holds no newer). */
  private readonly deleted = new Map<string, string | undefined>();

  constructor(private readonly backing: ObjectCache<T>) {}

  recordWrite(obj: T): void {
    const { namespace = '', name = '' } = obj.metadata ?? {};
    const current = this.backing.get(namespace, name);
    if (isNewerVersion(obj.metadata?.resourceVersion, current?.metadata?.resourceVersion)) {
      this.written.set(`${namespace}/${name}`, obj);
      this.deleted.delete(`${namespace}/${name}`);
    }
  }

  /** Hides `obj` (which we just deleted) until the watch delivers its deletion or a newer version. */
  recordDelete(obj: T): void {
    const { namespace = '', name = '' } = obj.metadata ?? {};
    const key = `${namespace}/${name}`;
    this.written.delete(key);
    if (this.backing.get(namespace, name)) this.deleted.set(key, obj.metadata?.resourceVersion);
  }

  /** Forget an overlay entry (the object was deleted). */
  forget(namespace: string, name: string): void {
    this.written.delete(`${namespace}/${name}`);
    this.deleted.delete(`${namespace}/${name}`);
  }

  get(namespace: string, name: string): T | undefined {
    const key = `${namespace}/${name}`;
    const current = this.backing.get(namespace, name);
    if (this.deleted.has(key)) {
      const goneAt = this.deleted.get(key);
      if (current && !isNewerVersion(current.metadata?.resourceVersion, goneAt)) return undefined;
      this.deleted.delete(key); // the cache has caught up (gone, or re-created since)
    }
    const mine = this.written.get(key);
    if (!mine) return current;
    if (current && !isNewerVersion(mine.metadata?.resourceVersion, current.metadata?.resourceVersion)) {
      this.written.delete(key);
      return current;
    }
    return mine;
  }

  list(namespace?: string): T[] {
    return this.backing
      .list(namespace)
      .map((o) => this.get(o.metadata?.namespace ?? '', o.metadata?.name ?? ''))
      .filter((o): o is T => o !== undefined);
  }
}
