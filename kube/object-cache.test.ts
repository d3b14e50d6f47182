import { MutationCache, isNewerVersion, type ObjectCache } from './object-cache';
import type { KubeObject } from './object-key';

const obj = (name: string, resourceVersion: string): KubeObject => ({
  metadata: { name, namespace: 'ns', resourceVersion },
});

/** The informer's store as the mutation cache sees it. */
function store(...objects: KubeObject[]) {
  const byName = new Map(objects.map((o) => [o.metadata!.name!, o]));
  const backing: ObjectCache<KubeObject> = {
    get: (_ns, name) => byName.get(name),
    list: () => [...byName.values()],
  };
  return { byName, cache: new MutationCache(backing) };
}

describe('MutationCache: our writes and deletes are visible before the watch reports them', () => {
  it('compares resource versions as integers when they are', () => {
    expect(isNewerVersion('10', '9')).toBe(true);
    expect(isNewerVersion('9', '10')).toBe(false);
    expect(isNewerVersion('5', undefined)).toBe(true);
    expect(isNewerVersion(undefined, '5')).toBe(false);
  });

  it('serves a write until the cache holds the same or a newer version', () => {
    const { byName, cache } = store(obj('a', '5'));
    cache.recordWrite(obj('a', '7'));
    expect(cache.get('ns', 'a')?.metadata?.resourceVersion).toBe('7');
    expect(cache.list().map((o) => o.metadata?.resourceVersion)).toEqual(['7']);
    byName.set('a', obj('a', '8'));
    expect(cache.get('ns', 'a')?.metadata?.resourceVersion).toBe('8');
    // An older write than the cache is ignored.
    cache.recordWrite(obj('a', '6'));
    expect(cache.get('ns', 'a')?.metadata?.resourceVersion).toBe('8');
  });

  it('hides a deleted object until the cache drops it or holds a newer one (re-created)', () => {
    const { byName, cache } = store(obj('a', '5'), obj('b', '6'));
    cache.recordDelete(obj('a', '5'));
    expect(cache.get('ns', 'a')).toBeUndefined();
    expect(cache.list().map((o) => o.metadata?.name)).toEqual(['b']);
    byName.set('a', obj('a', '9')); // re-created by someone else
    expect(cache.get('ns', 'a')?.metadata?.resourceVersion).toBe('9');
    cache.recordDelete(obj('a', '9'));
    byName.delete('a'); // the watch delivered the deletion
    expect(cache.get('ns', 'a')).toBeUndefined();
    byName.set('a', obj('a', '12'));
    expect(cache.get('ns', 'a')?.metadata?.resourceVersion).toBe('12');
  });

  it('a write after a delete (re-create) shows the new object', () => {
    const { cache } = store(obj('a', '5'));
    cache.recordDelete(obj('a', '5'));
    cache.recordWrite(obj('a', '10'));
    expect(cache.get('ns', 'a')?.metadata?.resourceVersion).toBe('10');
  });
});
