/**
 * Read side of an informer. `recordWrite` implements client-go's "mutation cache": an object returned
 * by one of our own writes is served until the informer has caught up with it, so a reconcile that
 * follows a write never acts on the state from before it (e.g. never generates a second pod name).
 */

import type { KubeObject } from './object-key';
export interface ObjectCache<T extends KubeObject> {
  get(namespace: string, name: string): T | undefined;
  list(namespace?: string): T[];
}

/** Resource versions are opaque, but etcd's are integers; compare as such when possible. */
export function isNewerVersion(candidate: string | undefined, than: string | undefined): boolean {
  if (!candidate) return false;
  if (!than) return true;
  if (/^\d+$/.test(candidate) && /^\d+$/.test(than)) return BigInt(candidate) > BigInt(than);
  return candidate !== than;
}

export class MutationCache<T extends KubeObject> implements ObjectCache<T> {
  private readonly written = new Map<string, T>();

  constructor(private readonly backing: ObjectCache<T>) {}

  recordWrite(obj: T): void {
    const { namespace = '', name = '' } = obj.metadata ?? {};
    const current = this.backing.get(namespace, name);
    if (isNewerVersion(obj.metadata?.resourceVersion, current?.metadata?.resourceVersion)) {
      this.written.set(`${namespace}/${name}`, obj);
    }
  }

  /** Forget an overlay entry (the object was deleted). */
  forget(namespace: string, name: string): void {
    this.written.delete(`${namespace}/${name}`);
  }

  get(namespace: string, name: string): T | undefined {
    const key = `${namespace}/${name}`;
    const current = this.backing.get(namespace, name);
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
      .map((o) => this.get(o.metadata?.namespace ?? '', o.metadata?.name ?? '') ?? o);
  }
}
